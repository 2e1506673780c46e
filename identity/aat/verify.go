package aat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/jwk"
)

// Limits of verification.
const (
	// DefaultSkew is the clock skew allowed by default on exp, nbf and iat.
	DefaultSkew = 30 * time.Second
	// MaxSkew bounds Config.Skew.
	MaxSkew = 5 * time.Minute
	// MaxTokenSize bounds the tokens Verify parses.
	MaxTokenSize = 16 << 10
	maxKIDLength = 128
)

// Config configures a Verifier.
type Config struct {
	// Issuers maps each trusted iss to where its keys come from. Required.
	Issuers map[string]KeySource
	// Audience is this server's identifier; the token's aud must hold it.
	// Required.
	Audience string
	// Skew is the clock skew allowed on exp, nbf and iat; zero means
	// DefaultSkew, above MaxSkew is an error.
	Skew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AllowedAlgs is a subset of EdDSA and ES256; nil means both. "none",
	// HS* and anything else are refused by NewVerifier.
	AllowedAlgs []string
	// RequireConfirmation refuses tokens without a cnf key binding
	// (x5t#S256 or jkt) with ErrBinding.
	RequireConfirmation bool
	// CacheSize is how many verified tokens Verify remembers, so that a
	// token presented again skips parsing, the key lookup and the
	// signature; its claims (exp, nbf, iat, aud, cnf) are still checked
	// against Now on every call, and an entry is dropped at the token's
	// exp or CacheMaxAge after it was verified, whichever comes first. So
	// a token whose key leaves the issuer's key set stays accepted for at
	// most CacheMaxAge (revocations are checked by callers on every call).
	// Zero turns the cache off; negative or above MaxCacheSize is an error.
	CacheSize int
}

// Verifier checks AATs. It is safe for concurrent use.
type Verifier struct {
	cfg   Config
	algs  []jose.SignatureAlgorithm
	cache *verifiedCache // nil when Config.CacheSize is 0
}

// NewVerifier checks cfg and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Issuers) == 0 {
		return nil, errors.New("aat verifier: no trusted issuers")
	}
	for iss, src := range cfg.Issuers {
		if iss == "" || src == nil {
			return nil, fmt.Errorf("aat verifier: issuer %q: empty name or nil key source", iss)
		}
	}
	if cfg.Audience == "" {
		return nil, errors.New("aat verifier: audience is required")
	}
	if cfg.Skew < 0 || cfg.Skew > MaxSkew {
		return nil, fmt.Errorf("aat verifier: skew %s outside [0, %s]", cfg.Skew, MaxSkew)
	}
	if cfg.Skew == 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.CacheSize < 0 || cfg.CacheSize > MaxCacheSize {
		return nil, fmt.Errorf("aat verifier: cache size %d outside [0, %d]", cfg.CacheSize, MaxCacheSize)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AllowedAlgs == nil {
		cfg.AllowedAlgs = []string{jwk.EdDSA, jwk.ES256}
	}
	v := &Verifier{cfg: cfg}
	for _, a := range cfg.AllowedAlgs {
		if a != jwk.EdDSA && a != jwk.ES256 {
			return nil, fmt.Errorf("aat verifier: algorithm %q not allowed (only %s, %s)", a, jwk.EdDSA, jwk.ES256)
		}
		v.algs = append(v.algs, jose.SignatureAlgorithm(a))
	}
	if len(v.algs) == 0 {
		return nil, errors.New("aat verifier: no allowed algorithms")
	}
	if cfg.CacheSize > 0 {
		v.cache = newVerifiedCache(cfg.CacheSize)
	}
	return v, nil
}

// Verify checks token and returns its claims: size, compact form, alg in
// the allowlist, typ aat+jwt, kid a plain identifier, iss trusted, the
// signature with the issuer's key for kid, required claims, aat_version,
// exp/nbf/iat with the skew, lifetime cap, aud, and cnf when required.
// Binding to a peer certificate or DPoP key is checked by CheckX5T and
// CheckJKT. With Config.CacheSize set, a token verified before skips
// everything up to the claims, which are checked again as above. The
// returned Claims are the caller's own.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if v.cache == nil || len(token) > MaxTokenSize {
		return v.verify(ctx, token)
	}
	key := sha256.Sum256([]byte(token))
	if c := v.cache.get(key, v.cfg.Now()); c != nil {
		if err := v.checkClaims(c); err != nil {
			return nil, fmt.Errorf("aat %s: %w", c.ID, err)
		}
		return c, nil
	}
	c, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	v.cache.put(key, c.clone(), v.cfg.Now())
	return c, nil
}

// verify checks token with no cache, as Verify documents.
func (v *Verifier) verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxTokenSize)
	}
	jws, err := jose.ParseSignedCompact(token, v.algs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, fmt.Errorf("%w: algorithm %q not allowed", ErrSignature, algErr.Got)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrMalformed)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !typeIs(typ, Type) {
		return nil, fmt.Errorf("%w: typ %q, want %s", ErrMalformed, typ, Type)
	}
	if !plainKID(h.KeyID) {
		return nil, fmt.Errorf("%w: kid missing or not a plain identifier", ErrMalformed)
	}

	// The issuer picks the keys, so it is read before the signature is
	// checked; nothing else of the unverified payload is used.
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	src, ok := v.cfg.Issuers[unverified.Issuer]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrIssuerUntrusted, unverified.Issuer)
	}
	key, err := src.Key(ctx, unverified.Issuer, h.KeyID)
	if errors.Is(err, ErrUnknownKey) {
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if err != nil {
		return nil, fmt.Errorf("keys of %q: %w", unverified.Issuer, err)
	}
	if key.Algorithm != h.Algorithm || !slices.Contains(v.algs, jose.SignatureAlgorithm(key.Algorithm)) {
		return nil, fmt.Errorf("%w: kid %s is an %s key, token says %s", ErrSignature, h.KeyID, key.Algorithm, h.Algorithm)
	}
	if err := jwk.CheckAlgorithm(key.Algorithm, key.Public); err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrSignature, h.KeyID, err)
	}
	payload, err := jws.Verify(key.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s", ErrSignature, h.KeyID)
	}

	c := new(Claims)
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if err := v.checkClaims(c); err != nil {
		return nil, fmt.Errorf("aat %s: %w", c.ID, err)
	}
	return c, nil
}

func (v *Verifier) checkClaims(c *Claims) error {
	if name := c.missing(); name != "" {
		return fmt.Errorf("%w: claim %s missing", ErrMalformed, name)
	}
	if c.Version != Version {
		return fmt.Errorf("%w: aat_version %q not supported", ErrMalformed, c.Version)
	}
	now := v.cfg.Now()
	skew := v.cfg.Skew
	if !now.Before(c.Expiry.Time().Add(skew)) {
		return fmt.Errorf("%w: at %s", ErrExpired, c.Expiry.Time().UTC().Format(time.RFC3339))
	}
	if c.NotBefore != 0 && now.Before(c.NotBefore.Time().Add(-skew)) {
		return fmt.Errorf("%w: before %s", ErrNotYetValid, c.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	if now.Before(c.IssuedAt.Time().Add(-skew)) {
		return fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	}
	if life := c.Expiry.Time().Sub(c.IssuedAt.Time()); life > MaxLifetime {
		return fmt.Errorf("%w: lifetime %s above %s", ErrMalformed, life, MaxLifetime)
	}
	if !slices.Contains(c.Audience, v.cfg.Audience) {
		return fmt.Errorf("%w: not for %q", ErrAudience, v.cfg.Audience)
	}
	if v.cfg.RequireConfirmation && (c.Confirmation == nil || (c.Confirmation.X5TS256 == "" && c.Confirmation.JKT == "")) {
		return fmt.Errorf("%w: no cnf key binding", ErrBinding)
	}
	return nil
}

// typeIs compares JWS typ values as RFC 7515 asks: case-insensitively,
// with an optional "application/" prefix.
func typeIs(typ, want string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, want)
}

// plainKID accepts kids made of [A-Za-z0-9._-], not starting with a dot:
// a thumbprint or "<name>-v<N>", never a URL, a path or a query.
func plainKID(kid string) bool {
	if kid == "" || len(kid) > maxKIDLength || kid[0] == '.' {
		return false
	}
	for i := range len(kid) {
		if !kidChar(kid[i]) {
			return false
		}
	}
	return true
}

func kidChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	default:
		return c == '-' || c == '_' || c == '.'
	}
}
