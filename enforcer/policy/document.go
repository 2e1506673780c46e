package policy

// Document is an AgentPolicy as written in YAML, after strict decoding and
// validation. It is plain data: Compile turns it into a *Policy.
//
// Field names follow the AIP reference (aip.io/v1alpha1–v1alpha3). Every
// field the reference policies use is accepted; anything else is an error
// naming its key path.
type Document struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`

	canonical []byte // RFC 8785 JSON of the document without metadata.signature
	hash      string
}

// Metadata identifies a policy. Signature is `ed25519:<base64>` over the
// canonical policy (v1alpha2). Labels, annotations and description are
// accepted for tooling and ignored by the engine.
type Metadata struct {
	Name        string            `yaml:"name"`
	Version     string            `yaml:"version"`
	Owner       string            `yaml:"owner"`
	Description string            `yaml:"description"`
	Signature   string            `yaml:"signature"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Spec is the body of an AgentPolicy.
type Spec struct {
	// Mode is "enforce" (default) or "monitor".
	Mode              string     `yaml:"mode"`
	AllowedTools      []string   `yaml:"allowed_tools"`
	AllowedMethods    []string   `yaml:"allowed_methods"`
	DeniedMethods     []string   `yaml:"denied_methods"`
	ToolRules         []ToolRule `yaml:"tool_rules"`
	StrictArgsDefault bool       `yaml:"strict_args_default"`
	ProtectedPaths    []string   `yaml:"protected_paths"`
	DLP               *DLP       `yaml:"dlp"`

	// CapabilitiesMode (v1alpha3) says how the sidecar combines the
	// policy's tools with a token's capabilities; the engine ignores it.
	CapabilitiesMode string `yaml:"capabilities_mode"`
	// Identity and Server (v1alpha2) configure the token layer and the
	// policy server; they are validated for shape only.
	Identity *Identity `yaml:"identity"`
	Server   *Server   `yaml:"server"`
}

// ToolRule refines one tool.
type ToolRule struct {
	Tool string `yaml:"tool"`
	// Action is "allow" (default), "block" or "ask".
	Action string `yaml:"action"`
	// AllowArgs maps an argument name to an RE2 regex its value must match
	// (a search, not anchored).
	AllowArgs map[string]string `yaml:"allow_args"`
	// StrictArgs, when set, overrides spec.strict_args_default: arguments
	// not listed in AllowArgs are a violation.
	StrictArgs *bool `yaml:"strict_args"`
	// RateLimit is "N/second|sec|s|minute|min|m|hour|hr|h".
	RateLimit string `yaml:"rate_limit"`
	// SchemaHash (v1alpha2) is "sha256:<hex>" of the tool's canonical
	// {name, description, inputSchema}.
	SchemaHash string `yaml:"schema_hash"`
	// Description is free text for people; the engine ignores it.
	Description string `yaml:"description"`
}

// DLP is the data loss prevention section, kept as plain data: the proxy
// hands it to enforcer/dlp.
type DLP struct {
	// Enabled defaults to true when the section is present.
	Enabled       *bool        `yaml:"enabled"`
	Patterns      []DLPPattern `yaml:"patterns"`
	ScanRequests  bool         `yaml:"scan_requests"`
	ScanResponses *bool        `yaml:"scan_responses"`
	// OnRequestMatch is "block" (default), "redact" or "warn".
	OnRequestMatch string `yaml:"on_request_match"`
	DetectEncoding bool   `yaml:"detect_encoding"`
	FilterStderr   bool   `yaml:"filter_stderr"`
	// MaxScanSize is a size such as "1MB"; enforcer/dlp interprets it.
	MaxScanSize string `yaml:"max_scan_size"`
}

// DLPPattern is one named RE2 regex. Scope is "request", "response" or
// "all" (default).
type DLPPattern struct {
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
	Scope string `yaml:"scope"`
}

// Identity is the v1alpha2 token section, accepted as the reference writes
// it; durations stay strings for the identity layer to parse.
type Identity struct {
	Enabled               bool          `yaml:"enabled"`
	TokenTTL              string        `yaml:"token_ttl"`
	RotationInterval      string        `yaml:"rotation_interval"`
	RequireToken          bool          `yaml:"require_token"`
	HashAlgorithm         string        `yaml:"hash_algorithm"`
	SessionBinding        string        `yaml:"session_binding"`
	NonceWindow           string        `yaml:"nonce_window"`
	PolicyTransitionGrace string        `yaml:"policy_transition_grace"`
	Audience              string        `yaml:"audience"`
	NonceStorage          *NonceStorage `yaml:"nonce_storage"`
	Keys                  *Keys         `yaml:"keys"`
}

// NonceStorage selects the nonce backend of the identity layer.
type NonceStorage struct {
	Type      string `yaml:"type"`
	Address   string `yaml:"address"`
	KeyPrefix string `yaml:"key_prefix"`
	Clustered bool   `yaml:"clustered"`
}

// Keys configures token signing keys of the identity layer.
type Keys struct {
	SigningAlgorithm string `yaml:"signing_algorithm"`
	KeySource        string `yaml:"key_source"`
	KeyPath          string `yaml:"key_path"`
	RotationPeriod   string `yaml:"rotation_period"`
	JWKSEndpoint     string `yaml:"jwks_endpoint"`
}

// Server is the v1alpha2 policy server section.
type Server struct {
	Enabled      bool       `yaml:"enabled"`
	Listen       string     `yaml:"listen"`
	FailoverMode string     `yaml:"failover_mode"`
	Timeout      string     `yaml:"timeout"`
	TLS          *ServerTLS `yaml:"tls"`
	Endpoints    *Endpoints `yaml:"endpoints"`
}

// ServerTLS names the policy server's certificate files.
type ServerTLS struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
}

// Endpoints are the policy server's HTTP paths.
type Endpoints struct {
	Validate string `yaml:"validate"`
	Revoke   string `yaml:"revoke"`
	JWKS     string `yaml:"jwks"`
	Health   string `yaml:"health"`
	Metrics  string `yaml:"metrics"`
}

// Hash is the policy hash: lowercase hex SHA-256 of Canonical.
func (d *Document) Hash() string { return d.hash }

// Canonical returns the RFC 8785 JSON of the document with
// metadata.signature removed: the bytes that are hashed and signed.
func (d *Document) Canonical() []byte { return append([]byte(nil), d.canonical...) }
