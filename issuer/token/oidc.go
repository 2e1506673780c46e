package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// IdentityProvider is a trusted OIDC provider.
type IdentityProvider struct {
	Name      string
	IssuerURL string // compared exactly with the ID token's iss
	Audience  string // the client id the ID token must be issued to
	// Claim names; empty means sub, email, groups.
	UserIDClaim, EmailClaim, GroupsClaim string
	// KeySet, when set, verifies signatures without discovery (tests,
	// air-gapped deployments); nil means OIDC discovery of IssuerURL.
	KeySet oidc.KeySet
}

// OIDCConfig configures an OIDCVerifier.
type OIDCConfig struct {
	Providers []IdentityProvider
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Context carries an *http.Client for discovery and JWKS fetches (see
	// oidc.ClientContext); nil means context.Background.
	Context context.Context
}

// OIDCVerifier verifies ID tokens against several identity providers,
// picking the provider by the token's iss. Discovery happens on first use
// of a provider and is retried after a failure.
type OIDCVerifier struct {
	cfg OIDCConfig

	mu        sync.Mutex
	verifiers map[string]*oidc.IDTokenVerifier
}

var _ SubjectVerifier = (*OIDCVerifier)(nil)

// NewOIDCVerifier checks cfg.
func NewOIDCVerifier(cfg OIDCConfig) (*OIDCVerifier, error) {
	seen := map[string]bool{}
	for _, p := range cfg.Providers {
		if p.IssuerURL == "" || p.Audience == "" {
			return nil, fmt.Errorf("identity provider %q: issuer url and audience are required", p.Name)
		}
		if seen[p.IssuerURL] {
			return nil, fmt.Errorf("identity provider %q: duplicate issuer %s", p.Name, p.IssuerURL)
		}
		seen[p.IssuerURL] = true
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	return &OIDCVerifier{cfg: cfg, verifiers: map[string]*oidc.IDTokenVerifier{}}, nil
}

// VerifySubject verifies an ID token: signature (asymmetric algorithms
// only), iss, aud, exp, then maps the claims.
func (v *OIDCVerifier) VerifySubject(ctx context.Context, tokenType, raw string) (*User, error) {
	if tokenType != TokenTypeIDToken {
		return nil, fmt.Errorf("%w: token type %s", ErrSubjectToken, tokenType)
	}
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSubjectToken, err)
	}
	p, ok := v.provider(iss)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownIssuer, iss)
	}
	verifier, err := v.verifier(ctx, p)
	if err != nil {
		return nil, err
	}
	tok, err := verifyToken(ctx, verifier, raw)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrSubjectToken, err)
	}
	return mapClaims(p, tok, claims)
}

func (v *OIDCVerifier) provider(iss string) (IdentityProvider, bool) {
	for _, p := range v.cfg.Providers {
		if p.IssuerURL == iss {
			return p, true
		}
	}
	return IdentityProvider{}, false
}

func (v *OIDCVerifier) verifier(ctx context.Context, p IdentityProvider) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if vf, ok := v.verifiers[p.IssuerURL]; ok {
		return vf, nil
	}
	oc := &oidc.Config{
		ClientID:             p.Audience,
		Now:                  v.cfg.Now,
		SupportedSigningAlgs: signingAlgs,
	}
	var vf *oidc.IDTokenVerifier
	if p.KeySet != nil {
		vf = oidc.NewVerifier(p.IssuerURL, p.KeySet, oc)
	} else {
		var err error
		if vf, err = discoverVerifier(v.cfg.Context, p.IssuerURL, oc); err != nil {
			return nil, fmt.Errorf("discover identity provider %s: %w", p.Name, err)
		}
	}
	v.verifiers[p.IssuerURL] = vf
	return vf, nil
}

func mapClaims(p IdentityProvider, tok *oidc.IDToken, claims map[string]any) (*User, error) {
	name := func(n, def string) string {
		if n == "" {
			return def
		}
		return n
	}
	u := &User{Issuer: tok.Issuer, AuthMethod: AuthMethodOIDC}
	u.ID, _ = claims[name(p.UserIDClaim, "sub")].(string)
	if u.ID == "" {
		return nil, fmt.Errorf("%w: no user id claim %q", ErrSubjectToken, name(p.UserIDClaim, "sub"))
	}
	u.Email, _ = claims[name(p.EmailClaim, "email")].(string)
	switch g := claims[name(p.GroupsClaim, "groups")].(type) {
	case string:
		u.Groups = []string{g}
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok && s != "" {
				u.Groups = append(u.Groups, s)
			}
		}
	}
	if at, ok := claims["auth_time"].(float64); ok && at > 0 {
		u.AuthTime = time.Unix(int64(at), 0)
	}
	u.SessionID, _ = claims["sid"].(string)
	return u, nil
}

// unverifiedIssuer reads iss from a compact JWS without verifying it: it
// only picks which provider's keys verify the token.
func unverifiedIssuer(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("payload is not base64url")
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", errors.New("payload is not a JSON object")
	}
	return c.Issuer, nil
}
