package agent

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/aip-project/aip/identity/dpop"
)

// Defaults of Config.
const (
	// DefaultRefreshBefore is how long before expiry a token is renewed,
	// unless that is more than a fifth of its lifetime.
	DefaultRefreshBefore = time.Minute
	// DefaultMaxBodySize bounds the request bodies buffered for hashing.
	DefaultMaxBodySize = 4 << 20
	// DefaultFetchTimeout bounds one token request to the issuer.
	DefaultFetchTimeout = 30 * time.Second
)

// Config configures a Transport. IssuerURL, Audience and exactly one
// subject (SubjectToken, LocalUser, Binding or CIToken) are required, and
// an agent credential (Key, JWTSource or X509Source) for every subject
// but CIToken.
type Config struct {
	// IssuerURL is the issuer's URL, exactly as it is configured there
	// (issuer_url): the token endpoint is IssuerURL + "/v1/token", and the
	// DPoP proof and the JWT-SVID audience name it.
	IssuerURL string
	// Audience is the MCP server the tokens are for (aud).
	Audience string
	// Scope narrows the tools asked for; nil asks for all the agent is
	// granted.
	Scope []string

	// Key signs the DPoP proofs. For an agent registered by its native
	// key it is that key, and it is how the agent authenticates. With a
	// JWTSource or X509Source, nil means a fresh in-memory key made by
	// New, to which the tokens are bound all the same.
	Key *dpop.Key
	// JWTSource gives JWT-SVIDs (e.g. a workloadapi.JWTSource): one for
	// audience IssuerURL is sent as the actor_token.
	JWTSource jwtsvid.Source
	// X509Source gives X509-SVIDs (e.g. a workloadapi.X509Source): when
	// Base and HTTPClient are nil, connections present it (mTLS) and the
	// issuer binds the tokens to it (cnf x5t#S256).
	X509Source x509svid.Source
	// X509Bundles verifies servers' X509-SVIDs; nil means X509Source when
	// it is also a bundle source (a workloadapi.X509Source is).
	X509Bundles x509bundle.Source
	// ServerAuthorizer authorizes servers' SPIFFE IDs; nil means any
	// member of the agent's own trust domain.
	ServerAuthorizer tlsconfig.Authorizer

	// SubjectToken returns the user's OIDC ID token, called on each token
	// request.
	SubjectToken func(ctx context.Context) (string, error)
	// LocalUser names the OS user as the subject (an issuer with
	// local_user enabled: the embedded, single-machine default).
	LocalUser string
	// Binding makes the subject the person who bound this agent by SSO
	// (docs/sso.md): the agent sends only its own credential, and the
	// AATs carry that person and the tools they allowed.
	Binding *Binding
	// CIToken returns a CI job's OIDC token (GitHubActionsToken,
	// GitLabToken), exchanged under the issuer's ci_trust policies
	// (docs/cicd.md). It is called on each token request, and the issuer
	// takes each CI token once, so it must return a new one each time.
	// A CI job has no agent credential: JWTSource and X509Source must be
	// nil, and the AATs are bound to Key (nil: a fresh in-memory key).
	CIToken func(ctx context.Context) (string, error)

	// Base sends the requests (to the MCP server); nil means a clone of
	// http.DefaultTransport, with mTLS when X509Source is set.
	Base http.RoundTripper
	// HTTPClient calls the issuer; nil means a client over Base with a
	// DefaultFetchTimeout timeout.
	HTTPClient *http.Client

	// RefreshBefore is how long before expiry a token is renewed; zero
	// means DefaultRefreshBefore or a fifth of the token's lifetime,
	// whichever is shorter.
	RefreshBefore time.Duration
	// MaxBodySize bounds the request bodies buffered to be hashed (and
	// replayed after a refresh); zero means DefaultMaxBodySize.
	MaxBodySize int64
	// Now is the clock for proofs and expiry; nil means time.Now.
	Now func() time.Time
	// Logger logs token renewals (jti, expiry); nil means discard.
	Logger *slog.Logger
}

// validate reports every problem of c at once.
func (c *Config) validate() error {
	var errs []error
	add := func(field, problem string) { errs = append(errs, errors.New("agent config: "+field+": "+problem)) }
	if u, err := url.Parse(c.IssuerURL); c.IssuerURL == "" || err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("IssuerURL", "must be an absolute http(s) URL")
	} else if strings.HasSuffix(c.IssuerURL, "/") || u.RawQuery != "" || u.Fragment != "" {
		add("IssuerURL", "must have no trailing slash, query or fragment")
	}
	if c.Audience == "" {
		add("Audience", "is required (the MCP server)")
	}
	if c.Scope != nil && len(c.Scope) == 0 {
		add("Scope", "is empty; use nil to ask for every granted tool")
	}
	for _, s := range c.Scope {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			add("Scope", "tool names must be non-empty and without spaces")
			break
		}
	}
	c.validateSubject(add)
	if c.RefreshBefore < 0 {
		add("RefreshBefore", "must not be negative")
	}
	if c.MaxBodySize < 0 {
		add("MaxBodySize", "must not be negative")
	}
	return errors.Join(errs...)
}

// Binding selects an SSO binding of the agent as the subject.
type Binding struct {
	// User names the person, by user id or email, when several people
	// bound the agent; empty means the agent's only binding.
	User string
}

// validateSubject checks that exactly one subject is set, and the agent
// credential it needs.
func (c *Config) validateSubject(add func(field, problem string)) {
	var set []string
	if c.SubjectToken != nil {
		set = append(set, "SubjectToken")
	}
	if c.LocalUser != "" {
		set = append(set, "LocalUser")
	}
	if c.Binding != nil {
		set = append(set, "Binding")
	}
	if c.CIToken != nil {
		set = append(set, "CIToken")
	}
	switch len(set) {
	case 0:
		add("SubjectToken", "a subject is required: SubjectToken, LocalUser, Binding or CIToken")
	case 1:
	default:
		add(set[1], "set together with "+set[0]+"; choose one subject")
	}
	if b := c.Binding; b != nil && (strings.TrimSpace(b.User) != b.User || strings.ContainsFunc(b.User, unicode.IsControl)) {
		add("Binding.User", "must be a user id or email, without surrounding spaces or control characters")
	}
	switch {
	case c.CIToken != nil && (c.JWTSource != nil || c.X509Source != nil):
		add("CIToken", "a CI job proves itself by its CI token and DPoP key only: drop JWTSource and X509Source (the issuer refuses them)")
	case c.CIToken == nil && c.Key == nil && c.JWTSource == nil && c.X509Source == nil:
		add("Key", "an agent credential is required: Key, JWTSource or X509Source")
	}
}
