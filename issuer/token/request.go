package token

import (
	"net/url"
	"slices"
	"strings"

	"github.com/aip-project/aip/issuer/oauth"
)

// RFC 8693 identifiers, and aip's local-user subject type. They are URNs,
// not credentials.
//
//nolint:gosec // G101: token type URNs, not secrets
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	// TokenTypeLocalUser names the OS user as the subject (embedded default
	// only): subject_token is the user id.
	TokenTypeLocalUser = "urn:aip:params:oauth:token-type:local-user"
)

// Limits on request parameters.
const (
	maxTokenLen    = 16 << 10
	maxParamLen    = 2 << 10
	maxAudiences   = 8
	maxScopeTokens = 256
)

// Request is a parsed token-exchange request.
type Request struct {
	SubjectToken     string
	SubjectTokenType string
	ActorToken       string
	ActorTokenType   string
	// Audience holds the audience and resource values (RFC 8707), in order.
	Audience []string
	// Scope is the requested narrowing of tools; nil means all.
	Scope []string
}

// ParseRequest reads an RFC 8693 form. Every parameter but audience and
// resource must appear at most once (RFC 6749 §3.2). A missing audience is
// not an error here: the exchange refuses it with invalid_target after the
// caller is authenticated.
func ParseRequest(form url.Values) (Request, error) {
	for name, vals := range form {
		if len(vals) > 1 && name != "audience" && name != "resource" {
			return Request{}, oauth.New(oauth.InvalidRequest, "duplicate_parameter", "parameter "+safeName(name)+" appears more than once", nil)
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case GrantTypeTokenExchange:
	case "":
		return Request{}, oauth.New(oauth.InvalidRequest, "missing_grant_type", "grant_type is required", nil)
	default:
		return Request{}, oauth.New(oauth.UnsupportedGrantType, "unsupported_grant_type", "only "+GrantTypeTokenExchange+" is supported", nil)
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeJWT {
		return Request{}, oauth.New(oauth.InvalidRequest, "requested_token_type", "requested_token_type must be "+TokenTypeJWT, nil)
	}
	r := Request{
		SubjectToken:     form.Get("subject_token"),
		SubjectTokenType: form.Get("subject_token_type"),
		ActorToken:       form.Get("actor_token"),
		ActorTokenType:   form.Get("actor_token_type"),
	}
	if r.SubjectToken == "" && r.SubjectTokenType == "" {
		r.SubjectTokenType = TokenTypeBinding // no user named: the agent's SSO binding (binding.go)
	}
	switch {
	case r.SubjectToken == "" && r.SubjectTokenType != TokenTypeBinding:
		return Request{}, oauth.New(oauth.InvalidRequest, "missing_subject_token", "subject_token is required", nil)
	case r.SubjectTokenType != TokenTypeIDToken && r.SubjectTokenType != TokenTypeLocalUser && r.SubjectTokenType != TokenTypeJWT && r.SubjectTokenType != TokenTypeBinding:
		return Request{}, oauth.New(oauth.InvalidRequest, "subject_token_type", "subject_token_type must be "+TokenTypeIDToken+" (a user), "+TokenTypeBinding+" (an SSO binding) or "+TokenTypeJWT+" (a CI/CD job)", nil)
	case len(r.SubjectToken) > maxTokenLen || len(r.ActorToken) > maxTokenLen:
		return Request{}, oauth.New(oauth.InvalidRequest, "token_too_large", "token too large", nil)
	case r.ActorToken != "" && r.ActorTokenType != TokenTypeJWT:
		return Request{}, oauth.New(oauth.InvalidRequest, "actor_token_type", "actor_token_type must be "+TokenTypeJWT, nil)
	case r.ActorToken == "" && r.ActorTokenType != "":
		return Request{}, oauth.New(oauth.InvalidRequest, "actor_token_type", "actor_token_type without actor_token", nil)
	}
	for _, name := range []string{"audience", "resource"} {
		for _, v := range form[name] {
			if v == "" || len(v) > maxParamLen || !printable(v) {
				return Request{}, oauth.New(oauth.InvalidTarget, "bad_audience", name+" values must be non-empty printable strings", nil)
			}
			if name == "resource" {
				u, err := url.Parse(v)
				if err != nil || !u.IsAbs() || u.Fragment != "" {
					return Request{}, oauth.New(oauth.InvalidTarget, "bad_resource", "resource must be an absolute URI without fragment", nil)
				}
			}
			if !slices.Contains(r.Audience, v) {
				r.Audience = append(r.Audience, v)
			}
		}
	}
	if len(r.Audience) > maxAudiences {
		return Request{}, oauth.New(oauth.InvalidTarget, "too_many_audiences", "too many audience or resource values", nil)
	}
	if raw, ok := form["scope"]; ok {
		s := raw[0]
		if len(s) > maxParamLen*8 || !printable(s) {
			return Request{}, oauth.New(oauth.InvalidScope, "bad_scope", "scope must be space-separated printable tokens", nil)
		}
		r.Scope = []string{}
		for _, tool := range strings.Fields(s) {
			if !slices.Contains(r.Scope, tool) {
				r.Scope = append(r.Scope, tool)
			}
		}
		if len(r.Scope) == 0 || len(r.Scope) > maxScopeTokens {
			return Request{}, oauth.New(oauth.InvalidScope, "bad_scope", "scope must name 1 to 256 tools", nil)
		}
	}
	return r, nil
}

// printable accepts RFC 6749 NQSCHAR-like text: visible ASCII and space.
func printable(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// safeName keeps a parameter name fit for an error description.
func safeName(s string) string {
	if len(s) > 40 || !printable(s) {
		return "(invalid name)"
	}
	return s
}
