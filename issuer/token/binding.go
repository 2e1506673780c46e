package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/registry"
)

// TokenTypeBinding asks for the agent's SSO binding as the subject:
// subject_token names the bound user (id or email), needed only when
// several people bound the agent. A request with neither subject_token
// nor subject_token_type means the same with no user named.
//
//nolint:gosec // G101: a token type URN, not a secret
const TokenTypeBinding = "urn:aip:params:oauth:token-type:binding"

// AuthMethodSSOBinding is user_binding.auth_method of an AAT issued on a
// binding; its auth_time is when the person logged in to bind.
const AuthMethodSSOBinding = "sso_binding"

// Refusals of the binding path.
var (
	// ErrNoBinding: the agent has no active binding (for the named user).
	ErrNoBinding = errors.New("no active binding")
	// ErrSeveralBindings: several people bound the agent and the request
	// names none of them.
	ErrSeveralBindings = errors.New("several people bound this agent: name the user in subject_token")
)

// BindingLister lists the active bindings; binding.Store is one.
type BindingLister interface {
	List(ctx context.Context, f binding.Filter) ([]binding.Binding, error)
}

// boundSubjects verifies the binding "subject" of one agent.
type boundSubjects struct {
	agent string
	list  BindingLister
	now   func() time.Time
}

// bindings returns the subject verifier of agent's bindings.
func (e *Exchanger) bindings(agent string) SubjectVerifier {
	return boundSubjects{agent: agent, list: e.cfg.Bindings, now: e.cfg.Now}
}

// VerifySubject picks the agent's binding, for the user named by token
// when it is not empty, and returns the bound user: capabilities limited
// to the binding's scopes, tokens to its expiry; the binding's id is the
// session, so revoking that session stops it too.
func (s boundSubjects) VerifySubject(ctx context.Context, _, token string) (*User, error) {
	if s.list == nil {
		return nil, fmt.Errorf("%w: sso bindings are not enabled", ErrNoBinding)
	}
	all, err := s.list.List(ctx, binding.Filter{Agent: s.agent})
	if err != nil {
		return nil, fmt.Errorf("list bindings: %w", err)
	}
	now := s.now()
	all = slices.DeleteFunc(all, func(b binding.Binding) bool {
		return !b.Active(now) || (token != "" && b.User != token && b.Email != token)
	})
	if len(all) == 0 {
		return nil, ErrNoBinding
	}
	b := all[len(all)-1] // the newest
	for _, o := range all {
		if o.User != b.User {
			return nil, ErrSeveralBindings
		}
	}
	return &User{ID: b.User, Email: b.Email, Groups: b.Groups, Issuer: b.Issuer, AuthMethod: AuthMethodSSOBinding,
		AuthTime: b.AuthTime, SessionID: b.ID, Scopes: b.Scopes, Until: b.Expiry}, nil
}

// MayBind reports whether u may bind agent a: the rule the exchange
// applies (a listed user id or email, or a listed group).
func MayBind(a *registry.Agent, u *User) bool { return mayBind(a, u) }

// UserFromIDToken maps a verified ID token of provider p to its user, as
// the exchange does (the SSO flow verifies its own client's tokens).
func UserFromIDToken(p IdentityProvider, tok *oidc.IDToken) (*User, error) {
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrSubjectToken, err)
	}
	return mapClaims(p, tok, claims)
}
