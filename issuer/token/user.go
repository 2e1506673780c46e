package token

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// Auth methods recorded in user_binding.auth_method.
const (
	AuthMethodOIDC  = "oidc"
	AuthMethodLocal = "local"
)

// Errors of subject verification; each becomes invalid_grant with the
// uniform authentication failure message.
var (
	ErrUnknownIssuer = errors.New("subject token issuer not trusted")
	ErrSubjectToken  = errors.New("subject token invalid")
)

// User is the authenticated person an agent acts for.
type User struct {
	ID         string
	Email      string
	Groups     []string
	Issuer     string // the identity provider's issuer URL, or "local"
	AuthMethod string
	AuthTime   time.Time // zero when unknown
	// SessionID is the IdP session (the ID token's sid), if any.
	SessionID string
	// Scopes, when not nil, bounds the tools (a binding's scopes).
	Scopes []string
	// Until, when set, bounds the AAT's expiry (a binding's expiry).
	Until time.Time
}

// SubjectVerifier authenticates the user of a token request.
type SubjectVerifier interface {
	// VerifySubject checks token of tokenType and returns its user, or an
	// error wrapping ErrUnknownIssuer or ErrSubjectToken (refusals), or
	// another error (the provider could not be reached).
	VerifySubject(ctx context.Context, tokenType, token string) (*User, error)
}

// LocalUser is the embedded default's subject: the OS user running the
// issuer, named by subject_token with the local-user token type.
type LocalUser struct {
	UserID string
}

var _ SubjectVerifier = LocalUser{}

// VerifySubject accepts only tokenType local-user naming UserID.
func (l LocalUser) VerifySubject(_ context.Context, tokenType, token string) (*User, error) {
	if tokenType != TokenTypeLocalUser {
		return nil, fmt.Errorf("%w: token type %s", ErrUnknownIssuer, tokenType)
	}
	if l.UserID == "" || subtle.ConstantTimeCompare([]byte(token), []byte(l.UserID)) != 1 {
		return nil, fmt.Errorf("%w: not the local user", ErrSubjectToken)
	}
	return &User{ID: l.UserID, Issuer: AuthMethodLocal, AuthMethod: AuthMethodLocal}, nil
}

// Subjects tries the verifier for the token type: OIDC for ID tokens, the
// local user for local-user tokens (when enabled).
type Subjects struct {
	OIDC  SubjectVerifier // nil: no identity providers
	Local SubjectVerifier // nil: local user disabled
}

// VerifySubject dispatches on tokenType.
func (s Subjects) VerifySubject(ctx context.Context, tokenType, token string) (*User, error) {
	v := s.OIDC
	if tokenType == TokenTypeLocalUser {
		v = s.Local
	}
	if v == nil {
		return nil, fmt.Errorf("%w: token type %s not enabled", ErrUnknownIssuer, tokenType)
	}
	return v.VerifySubject(ctx, tokenType, token)
}
