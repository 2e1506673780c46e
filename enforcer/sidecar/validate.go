package sidecar

import (
	"net"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/keypath"
)

// Validate checks f and converts it to a Config, reporting every problem.
func Validate(f File) (*Config, error) {
	c, ps := validate(f)
	if err := ps.Err(ErrInvalid, "invalid configuration"); err != nil {
		return nil, err
	}
	return c, nil
}

func validate(f File) (*Config, keypath.Problems) {
	var ps keypath.Problems
	c := &Config{Audience: f.Audience, PolicyPath: f.Policy.Path, TrustedKey: f.Policy.TrustedKey,
		AuditPath: f.Audit.Path, CapabilitiesMode: f.CapabilitiesMode, MaxBodyBytes: int64(f.MaxBodyBytes),
		RequireProof: f.RequireProof == nil || *f.RequireProof}

	host, _, err := net.SplitHostPort(f.Listen)
	if err != nil || f.Listen == "" {
		ps.Add("listen", "must be host:port")
	}
	c.Listen = f.Listen
	c.TLS = validateTLS(&ps, f.TLS, host)
	c.PublicURL = validatePublicURL(&ps, f.PublicURL, f.Listen, c.TLS.Mode)

	switch u := f.Upstream; {
	case u.URL != "" && len(u.Command) > 0:
		ps.Add("upstream", "set url or command, not both")
	case len(u.Command) > 0:
		if u.Command[0] == "" {
			ps.Add("upstream.command[0]", "the program to run is required")
		}
		c.UpstreamCommand = u.Command
	case u.URL == "":
		ps.Add("upstream.url", "is required (the MCP server's Streamable HTTP endpoint)")
	default:
		if pu, err := url.Parse(u.URL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil {
			ps.Add("upstream.url", "must be an http(s) URL without user info")
		}
		c.UpstreamURL = u.URL
	}
	if f.Policy.Path == "" {
		ps.Add("policy.path", "is required: nothing is forwarded without a policy")
	}
	if f.Audience == "" {
		ps.Add("audience", "is required (this server's identifier, the AATs' aud)")
	}
	c.Issuers = validateIssuers(&ps, f.Issuers)
	c.Federation = validateFederation(&ps, f.Federation, f.Issuers, c.Issuers, c.TLS.Mode)
	if f.Redis != nil {
		timeout := duration(&ps, "redis.timeout", f.Redis.Timeout, DefaultRedisTimeout, time.Millisecond, time.Minute)
		c.Redis = redisOptions(&ps, f.Redis, timeout)
		c.RedisPrefix = f.Redis.Prefix
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = DefaultRedisPrefix
	}
	c.Revocation.FailOpen = f.Revocation.FailOpen
	c.Revocation.PollInterval = duration(&ps, "revocation.poll_interval", f.Revocation.PollInterval, DefaultPollInterval, 100*time.Millisecond, time.Hour)
	staleDefault := 3 * c.Revocation.PollInterval // polling; with Redis a lost subscription fails at once
	if f.Redis != nil {
		staleDefault = 0
	}
	c.Revocation.MaxStale = duration(&ps, "revocation.max_stale", f.Revocation.MaxStale, staleDefault, 0, 24*time.Hour)
	c.Skew = duration(&ps, "skew", f.Skew, DefaultSkew, 0, aat.MaxSkew)
	c.ProofMaxAge = duration(&ps, "proof_max_age", f.ProofMaxAge, DefaultProofMaxAge, time.Second, dpop.MaxWindow)
	c.PolicyHashGrace = duration(&ps, "policy_hash_grace", f.PolicyHashGrace, DefaultPolicyHashGrace, 0, 24*time.Hour)
	c.ReadTimeout = duration(&ps, "read_timeout", f.ReadTimeout, DefaultReadTimeout, 100*time.Millisecond, 10*time.Minute)
	if c.Skew > dpop.MaxWindow {
		ps.Add("skew", "at most %s", dpop.MaxWindow)
	}
	if f.CapabilitiesMode != CapabilitiesIntersect {
		ps.Add("capabilities_mode", "must be %q", CapabilitiesIntersect)
	}
	if f.MaxBodyBytes < 1 || f.MaxBodyBytes > 64<<20 {
		ps.Add("max_body_bytes", "must be between 1 and %d", 64<<20)
	}
	c.Approvals = validateApprovals(&ps, f.Approvals, c.TLS.Mode)
	c.MaxDelegationAge = duration(&ps, "max_delegation_age", f.MaxDelegationAge, 0, time.Minute, 90*24*time.Hour)
	c.HealthListen = validateHealthListen(&ps, f.HealthListen, f.Listen)
	if c.TLS.Mode == TLSModePlain && !c.RequireProof {
		ps.Add("require_proof", "must be true with tls.mode plain: without mTLS only DPoP binds a token to its agent")
	}
	return c, ps
}

func validateTLS(ps *keypath.Problems, t TLSFile, listenHost string) TLS {
	out := TLS(t)
	switch t.Mode {
	case TLSModePlain:
		if !loopback(listenHost) {
			ps.Add("tls.mode", "plain HTTP only on a loopback listen address (127.0.0.1, ::1, localhost); use spiffe mTLS otherwise")
		}
		if t.WorkloadAPIAddr != "" || len(t.TrustDomains) > 0 || len(t.IDPatterns) > 0 || t.SPIFFEID != "" {
			ps.Add("tls", "workload_api_addr, trust_domains, id_patterns and spiffe_id apply to mode spiffe only")
		}
	case TLSModeSPIFFE:
		if !strings.HasPrefix(t.WorkloadAPIAddr, "unix://") && !strings.HasPrefix(t.WorkloadAPIAddr, "tcp://") {
			ps.Add("tls.workload_api_addr", "must be unix:///path or tcp://host:port")
		}
		if len(t.TrustDomains) == 0 {
			ps.Add("tls.trust_domains", "at least one trust domain whose agents may connect")
		}
		for i, td := range t.TrustDomains {
			if _, err := spiffeid.TrustDomainFromString(td); err != nil {
				ps.Add(keypath.Index("tls.trust_domains", i), "not a trust domain name: %v", err)
			}
		}
		for i, p := range t.IDPatterns {
			if _, err := path.Match(p, ""); err != nil || !strings.HasPrefix(p, "spiffe://") {
				ps.Add(keypath.Index("tls.id_patterns", i), "must be a spiffe:// glob pattern (path.Match syntax)")
			}
		}
		if _, err := spiffeid.FromString(t.SPIFFEID); t.SPIFFEID != "" && err != nil {
			ps.Add("tls.spiffe_id", "must be a SPIFFE ID such as spiffe://example.org/aip/enforcer")
		}
	default:
		ps.Add("tls.mode", "must be spiffe or plain")
	}
	return out
}

func validatePublicURL(ps *keypath.Problems, raw, listen, mode string) string {
	if raw == "" {
		scheme := "https"
		if mode == TLSModePlain {
			scheme = "http"
		}
		return scheme + "://" + listen
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		ps.Add("public_url", "must be http(s)://host[:port] with no path or query")
		return raw
	}
	return strings.TrimSuffix(raw, "/")
}

func validateIssuers(ps *keypath.Problems, in []IssuerFile) []Issuer {
	if len(in) == 0 {
		ps.Add("issuers", "at least one trusted issuer is required")
	}
	seen := map[string]bool{}
	out := make([]Issuer, 0, len(in))
	for i, is := range in {
		p := keypath.Index("issuers", i)
		if u, err := url.Parse(is.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.HasSuffix(is.Issuer, "/") {
			ps.Add(p+".issuer", "must be the issuer's URL (its iss), without a trailing slash")
		} else if !secureURL(u) {
			ps.Add(p+".issuer", "must be https (plain http only on a loopback address)")
		}
		if seen[is.Issuer] {
			ps.Add(p+".issuer", "listed twice")
		}
		seen[is.Issuer] = true
		jwks := is.JWKSURL
		if jwks == "" && is.BundleTrustDomain != "" {
			// trusted by bundle: checked by validateFederation
		} else if jwks == "" {
			jwks = is.Issuer + "/.well-known/jwks.json"
		} else if u, err := url.Parse(jwks); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.Add(p+".jwks_url", "must be an http(s) URL")
		} else if !secureURL(u) {
			ps.Add(p+".jwks_url", "must be https (plain http only on a loopback address)")
		}
		out = append(out, Issuer{Issuer: is.Issuer, JWKSURL: jwks})
	}
	return out
}

// secureURL reports whether u may carry keys and revocation lists: https,
// or plain http to a loopback host, as the issuer's own config requires.
func secureURL(u *url.URL) bool {
	return u.Scheme == "https" || loopback(u.Hostname())
}

// loopback reports whether host is localhost or a loopback IP address.
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// duration parses a duration at path, which must lie in [lo, hi]; empty
// means def.
func duration(ps *keypath.Problems, path, s string, def, lo, hi time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		ps.Add(path, "not a duration (e.g. 30s): %q", s)
		return def
	}
	if d < lo || d > hi {
		ps.Add(path, "must be between %s and %s", lo, hi)
	}
	return d
}

// validateHealthListen checks health_listen: a host:port other than
// listen, or empty (no health listener).
func validateHealthListen(ps *keypath.Problems, addr, listen string) string {
	if addr == "" {
		return ""
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		ps.Add("health_listen", "must be host:port (e.g. 0.0.0.0:9090)")
	} else if addr == listen {
		ps.Add("health_listen", "must differ from listen")
	}
	return addr
}
