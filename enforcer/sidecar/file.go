package sidecar

// File is the YAML form of the configuration, as an operator writes it.
// Durations are strings ("30s") converted by Validate.
type File struct {
	Listen           string          `yaml:"listen"`
	PublicURL        string          `yaml:"public_url"`
	Upstream         UpstreamFile    `yaml:"upstream"`
	Policy           PolicyFile      `yaml:"policy"`
	Audit            AuditFile       `yaml:"audit"`
	Audience         string          `yaml:"audience"`
	Issuers          []IssuerFile    `yaml:"issuers"`
	TLS              TLSFile         `yaml:"tls"`
	RequireProof     *bool           `yaml:"require_proof"`
	Redis            *RedisFile      `yaml:"redis"`
	Revocation       RevocationFile  `yaml:"revocation"`
	Skew             string          `yaml:"skew"`
	ProofMaxAge      string          `yaml:"proof_max_age"`
	PolicyHashGrace  string          `yaml:"policy_hash_grace"`
	CapabilitiesMode string          `yaml:"capabilities_mode"`
	MaxBodyBytes     int             `yaml:"max_body_bytes"`
	ReadTimeout      string          `yaml:"read_timeout"`
	Approvals        *ApprovalsFile  `yaml:"approvals"`
	Federation       *FederationFile `yaml:"federation"`

	MaxDelegationAge string `yaml:"max_delegation_age"`
	HealthListen     string `yaml:"health_listen"`
}

// UpstreamFile is the MCP server behind the enforcer: {url} or {command}.
type UpstreamFile struct {
	URL     string   `yaml:"url"`
	Command []string `yaml:"command"`
}

// PolicyFile names the AgentPolicy and, optionally, the key it must be
// signed with.
type PolicyFile struct {
	Path       string `yaml:"path"`
	TrustedKey string `yaml:"trusted_key"`
}

// AuditFile names the hash-chained audit log.
type AuditFile struct {
	Path string `yaml:"path"`
}

// IssuerFile is one trusted AAT issuer.
type IssuerFile struct {
	Issuer  string `yaml:"issuer"`
	JWKSURL string `yaml:"jwks_url"`
	// BundleTrustDomain trusts the issuer by the bundle it serves on its
	// bundle endpoint: the trust domain of a federation.federates_with
	// peer whose JWT authorities are the issuer's AAT keys. Set instead of
	// jwks_url.
	BundleTrustDomain string `yaml:"bundle_trust_domain"`
	// SPIFFEID is the SPIFFE ID the issuer serves HTTPS with (its tls.spiffe):
	// its certificate is then checked as that X509-SVID against the
	// bundles, instead of Web PKI. tls.mode spiffe only.
	SPIFFEID string `yaml:"spiffe_id"`
}

// TLSFile is {mode: spiffe, workload_api_addr, trust_domains, id_patterns,
// spiffe_id} or {mode: plain}.
type TLSFile struct {
	Mode            string   `yaml:"mode"`
	WorkloadAPIAddr string   `yaml:"workload_api_addr"`
	TrustDomains    []string `yaml:"trust_domains"`
	IDPatterns      []string `yaml:"id_patterns"`
	// SPIFFEID is the enforcer's own SPIFFE ID, the SVID it serves when the
	// Workload API gives this workload several; empty: the first listed.
	SPIFFEID string `yaml:"spiffe_id"`
}

// RedisFile is the shared store of nonces, revocations and rate limits
// (go-redis UniversalOptions).
type RedisFile struct {
	Addrs        []string `yaml:"addrs"`
	Username     string   `yaml:"username"`
	Password     string   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	DB           int      `yaml:"db"`
	MasterName   string   `yaml:"master_name"`
	TLS          bool     `yaml:"tls"`
	Prefix       string   `yaml:"prefix"`
	Timeout      string   `yaml:"timeout"`
}

// RevocationFile tunes revocation checks.
type RevocationFile struct {
	FailOpen     bool   `yaml:"fail_open"`
	PollInterval string `yaml:"poll_interval"`
	MaxStale     string `yaml:"max_stale"`
}
