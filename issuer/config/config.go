package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Signer and store types.
const (
	SignerTypeLocal = "local"
	SignerTypeVault = "vault"
	StoreTypeFile   = "file"
	StoreTypeRedis  = "redis"
)

// Config is the validated runtime configuration of aip-issuer.
type Config struct {
	Listen    string
	IssuerURL string // no trailing slash
	TLS       *TLS   // nil: plain HTTP (no mTLS agent authentication)
	Server    Server
	Signer    Signer
	Store     Store
	// IdentityProviders are the trusted OIDC providers, by issuer URL.
	IdentityProviders []IdentityProvider
	SPIFFE            *SPIFFE // nil: no SPIFFE agent authentication
	Token             Token
	Admins            Admins
	LocalUser         LocalUser
	Audit             Audit
	// Policies maps an audience (MCP server) to the hash of its policy,
	// put in AATs as policy_hash.
	Policies map[string]string
	Log      Log
	// CITrust are the CI/CD token trust policies, in order (ci.go).
	CITrust []CIPolicy
	// Federation is nil when the section is absent: only the own trust
	// domain's agents are accepted.
	Federation *Federation
	SSO        *SSO // nil: no SSO binding flow
}

// TLS configures HTTPS.
type TLS struct {
	CertFile, KeyFile string
	SPIFFE            bool
	// SPIFFEID names the issuer's own X509-SVID when the Workload API
	// gives several; empty: the first.
	SPIFFEID string
}

// Server holds the HTTP server's limits.
type Server struct {
	ReadTimeout, WriteTimeout, RequestTimeout, ShutdownTimeout time.Duration
	BodyLimit                                                  int64 // bytes
}

// Signer chooses the signing backend.
type Signer struct {
	Type      string // SignerTypeLocal or SignerTypeVault
	Algorithm string // EdDSA or ES256
	KeyFile   string // local
	Address   string // vault
	Token     string // vault; read from token_file when set
	Mount     string
	Key       string
	Create    bool
	Timeout   time.Duration
}

// Store chooses the storage of the registry, revocations and proof jtis.
type Store struct {
	Type       string // StoreFile or StoreTypeRedis
	Path       string // file: a directory
	Addrs      []string
	Username   string
	Password   string // read from password_file when set
	DB         int
	Prefix     string
	TLS        bool
	MasterName string
}

// IdentityProvider is a trusted OIDC provider.
type IdentityProvider struct {
	Name      string
	IssuerURL string
	Audience  string // the client id ID tokens are issued to
	Claims    Claims
}

// Claims names the ID token claims holding the user's id, email, groups.
type Claims struct {
	UserID, Email, Groups string
}

// SPIFFE configures the Workload API and the agent SPIFFE ID scheme.
type SPIFFE struct {
	WorkloadAPIAddr string
	TrustDomain     string
	IDTemplate      string
}

// Token holds AAT lifetimes.
type Token struct {
	DefaultTTL, MaxTTL time.Duration
}

// Admins names who may use the registry and revocation APIs.
type Admins struct {
	SPIFFEIDs  []string
	OIDCGroups []string
	Socket     *AdminSocket // nil: no admin socket
}

// AdminSocket serves the admin API on a Unix socket to local users.
type AdminSocket struct {
	Path string
	UIDs []uint32 // nil: the issuer's own uid
	GID  int      // -1: none (socket mode 0600)
}

// LocalUser lets the OS user stand in for an IdP (embedded default only).
type LocalUser struct {
	Enabled bool
	UserID  string
}

// Audit configures the audit log.
type Audit struct {
	Path string
	Sync bool
}

// Log configures the process log.
type Log struct {
	Level, Format string
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes data strictly, fills the defaults and validates it. Every
// problem is reported at once in a *ValidationError.
func Parse(data []byte) (*Config, error) {
	var f File
	probs := decodeFile(data, &f)
	applyDefaults(&f)
	cfg, err := Validate(f)
	var verr *ValidationError
	if errors.As(err, &verr) {
		probs = append(probs, verr.Problems...)
	} else if err != nil {
		return nil, err
	}
	if err := invalid(probs); err != nil {
		return nil, err
	}
	return cfg, nil
}
