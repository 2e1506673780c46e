package config

// File is the YAML form of the configuration, as written by an operator.
// Durations and sizes are strings ("5m", "1MiB") converted by Validate.
type File struct {
	Listen            string            `yaml:"listen"`
	IssuerURL         string            `yaml:"issuer_url"`
	TLS               *TLSFile          `yaml:"tls"`
	Server            ServerFile        `yaml:"server"`
	Signer            SignerFile        `yaml:"signer"`
	Store             StoreFile         `yaml:"store"`
	IdentityProviders []IDPFile         `yaml:"identity_providers"`
	SPIFFE            *SPIFFEFile       `yaml:"spiffe"`
	Token             TokenFile         `yaml:"token"`
	Admins            AdminsFile        `yaml:"admins"`
	LocalUser         LocalUserFile     `yaml:"local_user"`
	Audit             AuditFile         `yaml:"audit"`
	Policies          map[string]string `yaml:"policies"`
	CITrust           []CITrustFile     `yaml:"ci_trust"` // see ci.go
	Log               LogFile           `yaml:"log"`
	Federation        *FederationFile   `yaml:"federation"`
	SSO               *SSOFile          `yaml:"sso"`
}

// TLSFile configures HTTPS. Agents authenticate by mTLS only over it.
type TLSFile struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// SPIFFE serves the issuer's own X509-SVID (from spiffe.workload_api_addr)
	// instead of cert_file/key_file.
	SPIFFE bool `yaml:"spiffe"`
	// SPIFFEID is the issuer's own SPIFFE ID, the SVID served when the
	// Workload API gives this workload several (it matches several
	// registration entries); empty: the first one SPIRE lists.
	SPIFFEID string `yaml:"spiffe_id"`
}

// ServerFile holds the HTTP server's limits.
type ServerFile struct {
	ReadTimeout     string `yaml:"read_timeout"`
	WriteTimeout    string `yaml:"write_timeout"`
	RequestTimeout  string `yaml:"request_timeout"`
	ShutdownTimeout string `yaml:"shutdown_timeout"`
	BodyLimit       string `yaml:"body_limit"`
}

// SignerFile is {type: local, key_file, algorithm} or
// {type: vault, address, token | token_file, mount, key, algorithm}.
type SignerFile struct {
	Type      string `yaml:"type"`
	KeyFile   string `yaml:"key_file"`
	Algorithm string `yaml:"algorithm"`
	Address   string `yaml:"address"`
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	Mount     string `yaml:"mount"`
	Key       string `yaml:"key"`
	Create    bool   `yaml:"create"`
	Timeout   string `yaml:"timeout"`
}

// StoreFile is {type: file, path} or {type: redis, addrs, ...}.
type StoreFile struct {
	Type         string   `yaml:"type"`
	Path         string   `yaml:"path"`
	Addrs        []string `yaml:"addrs"`
	Username     string   `yaml:"username"`
	Password     string   `yaml:"password"`
	PasswordFile string   `yaml:"password_file"`
	DB           int      `yaml:"db"`
	Prefix       string   `yaml:"prefix"`
	TLS          bool     `yaml:"tls"`
	MasterName   string   `yaml:"master_name"`
}

// IDPFile is a trusted OIDC identity provider.
type IDPFile struct {
	Name      string     `yaml:"name"`
	IssuerURL string     `yaml:"issuer_url"`
	Audience  string     `yaml:"audience"`
	Claims    ClaimsFile `yaml:"claims"`
}

// ClaimsFile maps ID token claims to the user's id, email and groups.
type ClaimsFile struct {
	UserID string `yaml:"user_id"`
	Email  string `yaml:"email"`
	Groups string `yaml:"groups"`
}

// SPIFFEFile points at the SPIRE Workload API.
type SPIFFEFile struct {
	WorkloadAPIAddr string `yaml:"workload_api_addr"`
	TrustDomain     string `yaml:"trust_domain"`
	IDTemplate      string `yaml:"id_template"`
}

// TokenFile holds AAT lifetimes.
type TokenFile struct {
	DefaultTTL string `yaml:"default_ttl"`
	MaxTTL     string `yaml:"max_ttl"`
}

// AdminsFile names the administrators of the registry API.
type AdminsFile struct {
	SPIFFEIDs  []string `yaml:"spiffe_ids"`
	OIDCGroups []string `yaml:"oidc_groups"`
	// Socket serves the admin API on a Unix socket too, to local users
	// named by uid; nil: off.
	Socket *AdminSocketFile `yaml:"socket"`
}

// AdminSocketFile is the local admin API on a Unix socket.
type AdminSocketFile struct {
	Path string `yaml:"path"`
	// AllowedUIDs may call it; empty: the uid the issuer runs as.
	AllowedUIDs []int `yaml:"allowed_uids"`
	// Group, a name or gid, makes the socket 0660 with that group instead
	// of 0600; its members may connect, and still need an allowed uid.
	Group string `yaml:"group"`
}

// LocalUserFile lets the OS user stand in for an IdP (embedded default).
type LocalUserFile struct {
	Enabled bool   `yaml:"enabled"`
	UserID  string `yaml:"user_id"`
}

// AuditFile configures the hash-chained audit log.
type AuditFile struct {
	Path string `yaml:"path"`
	Sync bool   `yaml:"sync"`
}

// LogFile configures the process log.
type LogFile struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}
