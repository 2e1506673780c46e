package token

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/aip-project/aip/internal/glob"
	"github.com/aip-project/aip/internal/nonce"
)

// AuthMethodCI is user_binding.auth_method of an AAT issued for a CI/CD
// job's OIDC token; user_binding.issuer is the CI issuer.
const AuthMethodCI = "ci"

// MethodCI is the Result.Method of a CI token exchange: the job proved a
// DPoP key it generated and the CI token named the agent.
const MethodCI = "ci"

// Errors of CI token verification.
var (
	// ErrNoCIPolicy means the token is valid but no ci_trust policy of its
	// issuer accepts its audience and claims.
	ErrNoCIPolicy = errors.New("no ci_trust policy matches the CI token")
	// ErrCIReplay means the CI token was already exchanged.
	ErrCIReplay = errors.New("ci token already exchanged")
)

// CICondition requires a claim of the CI token to match Pattern.
type CICondition struct {
	Claim   string
	Pattern *glob.Glob
}

// CIPolicy trusts the OIDC tokens of a CI issuer whose audience and claims
// match, and gives the job the named agent's identity.
type CIPolicy struct {
	Name     string
	Issuer   string // compared exactly with the token's iss
	Audience string // must be one of the token's aud
	// JWKSURL, when set, is where the issuer's keys are fetched; empty
	// means OIDC discovery of Issuer.
	JWKSURL string
	// Conditions must all match; a claim the token lacks fails.
	Conditions []CICondition
	Agent      string   // the registered agent the job acts as
	Tools      []string // the capabilities a job may get
	TTL        time.Duration
}

// matches reports whether aud and claims satisfy p.
func (p *CIPolicy) matches(aud []string, claims map[string]json.RawMessage) bool {
	if !slices.Contains(aud, p.Audience) {
		return false
	}
	for _, c := range p.Conditions {
		raw, ok := claims[c.Claim]
		if !ok {
			return false
		}
		v, ok := claimString(raw)
		if !ok || !c.Pattern.Match(v) {
			return false
		}
	}
	return true
}

// CIConfig configures a CIVerifier.
type CIConfig struct {
	// Policies are tried in order; the first whose issuer, audience and
	// conditions all match wins.
	Policies []CIPolicy
	// Replay records the exchanged tokens (see CIVerifier.Redeem);
	// required. Share one nonce.Redis between replicas.
	Replay nonce.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Context carries an *http.Client for discovery and JWKS fetches (see
	// oidc.ClientContext); nil means context.Background.
	Context context.Context
}

// CIToken is a verified CI token and the policy it matched. It holds no
// raw token.
type CIToken struct {
	Policy  *CIPolicy
	Issuer  string
	Subject string
	Expiry  time.Time
	// IssuedAt is the token's iat (zero when absent).
	IssuedAt time.Time
	// Digest identifies the token for replay detection and audit: the
	// hex SHA-256 of iss and jti, or of the whole token when it has no jti.
	Digest string
}

// CIVerifier verifies CI/CD OIDC tokens (GitHub Actions, GitLab CI, any
// OIDC issuer) against ci_trust policies.
type CIVerifier struct {
	cfg CIConfig

	mu        sync.Mutex
	verifiers map[string]*oidc.IDTokenVerifier // by issuer
}

// NewCIVerifier checks cfg.
func NewCIVerifier(cfg CIConfig) (*CIVerifier, error) {
	if cfg.Replay == nil {
		return nil, errors.New("ci verifier: a replay store is required")
	}
	jwks := map[string]string{}
	for i, p := range cfg.Policies {
		if p.Name == "" || p.Issuer == "" || p.Audience == "" || p.Agent == "" || len(p.Conditions) == 0 || len(p.Tools) == 0 || p.TTL <= 0 {
			return nil, fmt.Errorf("ci policy %d (%q): name, issuer, audience, agent, conditions, tools and ttl are required", i, p.Name)
		}
		if u, ok := jwks[p.Issuer]; ok && u != p.JWKSURL {
			return nil, fmt.Errorf("ci policy %q: issuer %s has two jwks urls", p.Name, p.Issuer)
		}
		jwks[p.Issuer] = p.JWKSURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	return &CIVerifier{cfg: cfg, verifiers: map[string]*oidc.IDTokenVerifier{}}, nil
}

// Trusts reports whether iss is the issuer of a policy.
func (v *CIVerifier) Trusts(iss string) bool {
	return slices.ContainsFunc(v.cfg.Policies, func(p CIPolicy) bool { return p.Issuer == iss })
}

// Verify checks a CI token — signature (asymmetric algorithms only), iss,
// exp, nbf — and picks the first policy of its issuer whose audience and
// conditions match. Errors wrap ErrUnknownIssuer, ErrSubjectToken or
// ErrNoCIPolicy (refusals), or are the issuer's keys being unreachable.
func (v *CIVerifier) Verify(ctx context.Context, raw string) (*CIToken, error) {
	iss, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSubjectToken, err)
	}
	if !v.Trusts(iss) {
		return nil, fmt.Errorf("%w: %q is not a ci_trust issuer", ErrUnknownIssuer, iss)
	}
	verifier, err := v.verifier(iss)
	if err != nil {
		return nil, err
	}
	tok, err := verifyToken(ctx, verifier, raw)
	if err != nil {
		return nil, err
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrSubjectToken, err)
	}
	if tok.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrSubjectToken)
	}
	ct := &CIToken{Issuer: tok.Issuer, Subject: tok.Subject, Expiry: tok.Expiry, IssuedAt: tok.IssuedAt, Digest: tokenDigest(tok.Issuer, claims, raw)}
	for i := range v.cfg.Policies {
		p := &v.cfg.Policies[i]
		if p.Issuer == iss && p.matches(tok.Audience, claims) {
			ct.Policy = p
			return ct, nil
		}
	}
	return ct, fmt.Errorf("%w (issuer %s, sub %q)", ErrNoCIPolicy, iss, tok.Subject)
}

// Redeem records t as exchanged until it expires: a second Redeem of the
// same token is ErrCIReplay. A store that cannot tell is an error (never
// accepted unrecorded).
func (v *CIVerifier) Redeem(ctx context.Context, t *CIToken) error {
	ttl := t.Expiry.Sub(v.cfg.Now())
	if !t.IssuedAt.IsZero() {
		// Its whole lifetime: the store's horizon check then covers a
		// record made any time since it was issued (issuer restart or
		// Redis data loss), and the key outlives exp a little, harmlessly.
		ttl = max(ttl, t.Expiry.Sub(t.IssuedAt))
	}
	if ttl < time.Second {
		// go-oidc accepted it, so it expires within the second.
		ttl = time.Second
	}
	switch err := v.cfg.Replay.Record(ctx, "ci:"+t.Digest, t.IssuedAt, ttl); {
	case errors.Is(err, nonce.ErrBeforeHorizon):
		// Its use before the store last started empty cannot be ruled out.
		return fmt.Errorf("%w: it was issued before the issuer's replay store last started empty; request a new CI token", ErrCIReplay)
	case errors.Is(err, nonce.ErrReplayed):
		return ErrCIReplay
	case err != nil:
		return fmt.Errorf("record ci token: %w", err)
	}
	return nil
}

func (v *CIVerifier) verifier(iss string) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if vf, ok := v.verifiers[iss]; ok {
		return vf, nil
	}
	var jwksURL string
	for _, p := range v.cfg.Policies {
		if p.Issuer == iss {
			jwksURL = p.JWKSURL
			break
		}
	}
	// The audience is checked per policy; exp, nbf and iss here.
	oc := &oidc.Config{SkipClientIDCheck: true, Now: v.cfg.Now, SupportedSigningAlgs: signingAlgs}
	var vf *oidc.IDTokenVerifier
	if jwksURL != "" {
		vf = oidc.NewVerifier(iss, oidc.NewRemoteKeySet(v.cfg.Context, jwksURL), oc)
	} else {
		var err error
		if vf, err = discoverVerifier(v.cfg.Context, iss, oc); err != nil {
			return nil, fmt.Errorf("discover ci issuer %s: %w", iss, err)
		}
	}
	v.verifiers[iss] = vf
	return vf, nil
}

// tokenDigest is the hex SHA-256 of iss NUL jti, or of the raw token when
// it has no string jti.
func tokenDigest(iss string, claims map[string]json.RawMessage, raw string) string {
	var jti string
	if r, ok := claims["jti"]; ok {
		_ = json.Unmarshal(r, &jti)
	}
	h := sha256.New()
	if jti == "" {
		h.Write([]byte("token\x00" + raw))
	} else {
		h.Write([]byte("jti\x00" + iss + "\x00" + jti))
	}
	return hex.EncodeToString(h.Sum(nil))
}
