package sidecar

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/internal/keypath"
	"github.com/aip-project/aip/internal/strictyaml"
)

// Defaults and limits of the configuration.
const (
	DefaultSkew            = 30 * time.Second
	DefaultProofMaxAge     = time.Minute
	DefaultPolicyHashGrace = 5 * time.Minute
	DefaultMaxBodyBytes    = 4 << 20
	DefaultReadTimeout     = 30 * time.Second
	DefaultPollInterval    = 2 * time.Second
	// idleTimeout closes keep-alive connections idle this long: past Go's
	// http.Transport default IdleConnTimeout (90 s).
	idleTimeout         = 2 * time.Minute
	DefaultRedisPrefix  = "aip"
	DefaultRedisTimeout = 2 * time.Second
	// MaxConfigSize bounds a configuration file.
	MaxConfigSize = 1 << 20

	TLSModeSPIFFE = "spiffe"
	TLSModePlain  = "plain"

	CapabilitiesIntersect = "intersect"
)

// ErrInvalid is wrapped by every configuration problem; the error is a
// *keypath.ValidationError listing them all.
var ErrInvalid = errors.New("invalid configuration")

// Config is the validated runtime configuration of `aip-enforcer serve`.
type Config struct {
	Listen string
	// PublicURL is this server's base URL as clients reach it (the DPoP
	// htu and the resource metadata are built on it); no trailing slash.
	PublicURL   string
	UpstreamURL string
	PolicyPath  string
	TrustedKey  string // path of the policy signing key; empty: unsigned
	AuditPath   string
	Audience    string
	Issuers     []Issuer
	TLS         TLS
	// RequireProof refuses tokens without a cnf jkt and a DPoP proof
	// (mTLS-bound tokens still need a proof when they carry a jkt).
	RequireProof bool
	// Redis, when set, holds nonces, revocations and rate limits shared by
	// every enforcer; nil: in-memory stores and revocations polled from
	// each issuer.
	Redis            *redis.UniversalOptions
	RedisPrefix      string
	Revocation       Revocation
	Skew             time.Duration
	ProofMaxAge      time.Duration
	PolicyHashGrace  time.Duration
	CapabilitiesMode string
	MaxBodyBytes     int64
	// ReadTimeout bounds reading a request's headers and body: a client
	// that trickles them is cut off. Streams are not bounded by it once
	// the request is read.
	ReadTimeout time.Duration
	// Approvals, when set, queues `ask` calls for approvers over HTTP
	// (/v1/approvals); nil: every ask is denied (-32004).
	Approvals *Approvals

	// UpstreamCommand is a stdio MCP server the sidecar starts and serves
	// (program and arguments); set instead of UpstreamURL.
	UpstreamCommand []string

	// Federation lists the federated trust domains whose bundles are
	// watched (agents' X509-SVIDs when listed in TLS.TrustDomains, and
	// issuers trusted by bundle); empty: none.
	Federation []federation.Peer
	// MaxDelegationAge, when positive, refuses tokens whose user signed in
	// (user_binding.auth_time) longer ago, or that do not say when (-32019
	// Delegation expired). Zero: not checked.
	MaxDelegationAge time.Duration
	// HealthListen, when set, is a plain-HTTP host:port serving only
	// /healthz, /readyz and /metrics, for kubelet probes and Prometheus,
	// which cannot present an X509-SVID.
	HealthListen string
}

// Issuer is one trusted AAT issuer.
type Issuer struct {
	Issuer  string // the iss value, also the base of /v1/revocations
	JWKSURL string // empty when BundleTrustDomain is set
	// BundleTrustDomain names the federation peer whose bundle holds the
	// issuer's AAT keys as JWT authorities; zero: keys from JWKSURL.
	BundleTrustDomain spiffeid.TrustDomain
	// SPIFFEID, when set, is the X509-SVID the issuer's HTTPS server must
	// present; zero: a Web PKI certificate.
	SPIFFEID spiffeid.ID
}

// TLS configures the listener.
type TLS struct {
	Mode            string // TLSModeSPIFFE or TLSModePlain
	WorkloadAPIAddr string
	TrustDomains    []string
	IDPatterns      []string // path.Match patterns on the whole SPIFFE ID
	// SPIFFEID names the enforcer's own X509-SVID when the Workload API
	// gives several; empty: the first.
	SPIFFEID string
}

// Revocation tunes revocation checks.
type Revocation struct {
	// FailOpen lets calls through when revocations cannot be checked: an
	// explicit operator choice, off by default.
	FailOpen     bool
	PollInterval time.Duration // issuer polling, without Redis
	// MaxStale is how long a revocation list may go unrefreshed (polling)
	// or a subscription stay lost (Redis) before checks fail. Unset in the
	// file: 3 × PollInterval when polling, 0 (fail at once) with Redis.
	MaxStale time.Duration
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse strictly decodes and validates a configuration document,
// reporting every problem at once with its key path.
func Parse(data []byte) (*Config, error) {
	f := defaults()
	ps := decode(data, &f)
	if len(ps) == 1 && ps[0].Path == "" {
		return nil, ps.Err(ErrInvalid, "invalid configuration") // not a document at all
	}
	c, more := validate(f)
	ps = append(ps, more...)
	if err := ps.Err(ErrInvalid, "invalid configuration"); err != nil {
		return nil, err
	}
	return c, nil
}

// defaults is the File before the operator's values are decoded over it.
func defaults() File {
	return File{
		Skew:             DefaultSkew.String(),
		ProofMaxAge:      DefaultProofMaxAge.String(),
		PolicyHashGrace:  DefaultPolicyHashGrace.String(),
		CapabilitiesMode: CapabilitiesIntersect,
		MaxBodyBytes:     DefaultMaxBodyBytes,
		Revocation:       RevocationFile{PollInterval: DefaultPollInterval.String()},
	}
}

func decode(data []byte, f *File) keypath.Problems {
	var ps keypath.Problems
	if len(data) > MaxConfigSize {
		ps.Add("", "larger than %d bytes", MaxConfigSize)
		return ps
	}
	root, err := strictyaml.Parse(data)
	switch {
	case err != nil:
		ps.Add("", "not valid YAML: %v", err)
		return ps
	case root == nil:
		ps.Add("", "empty configuration")
		return ps
	}
	d := strictyaml.Decoder{MaxNodes: 10_000, MaxDepth: 16, UnknownKey: "unknown key"}
	d.Decode(root, f)
	return d.Problems()
}

// redisOptions converts the redis section (password_file read here).
func redisOptions(ps *keypath.Problems, r *RedisFile, timeout time.Duration) *redis.UniversalOptions {
	if len(r.Addrs) == 0 {
		ps.Add("redis.addrs", "at least one host:port is required")
	}
	pw := r.Password
	if r.PasswordFile != "" {
		if pw != "" {
			ps.Add("redis.password_file", "set together with redis.password; choose one")
		}
		b, err := os.ReadFile(r.PasswordFile)
		if err != nil {
			ps.Add("redis.password_file", "cannot be read: %v", err)
		}
		pw = string(trimNewline(b))
	}
	o := &redis.UniversalOptions{Addrs: r.Addrs, Username: r.Username, Password: pw, DB: r.DB,
		MasterName: r.MasterName, DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout,
		MaxRetries: -1}
	if r.TLS {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return o
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
