package aat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/jwk"
)

// Defaults of a JWKSSource.
const (
	DefaultJWKSMaxAge     = 5 * time.Minute
	DefaultJWKSMinRefresh = 10 * time.Second
	maxJWKSSize           = 1 << 20
)

// JWKSConfig configures a JWKSSource.
type JWKSConfig struct {
	// URL of the issuer's JWKS (e.g. https://issuer/.well-known/jwks.json).
	// Required.
	URL string
	// Client fetches it; nil means an http.Client with a 5 s timeout.
	Client *http.Client
	// MaxAge is how long a fetched set is used before it is fetched again;
	// zero means DefaultJWKSMaxAge.
	MaxAge time.Duration
	// MinRefresh is the least time between two fetches, whatever asks for
	// them (unknown kids, failures): tokens with made-up kids cannot make
	// the source hammer the issuer. Zero means DefaultJWKSMinRefresh.
	MinRefresh time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JWKSSource is a KeySource that fetches an issuer's JWKS over HTTP,
// caches it, refetches it when it is older than MaxAge or when a kid is
// unknown, and never more often than MinRefresh. When a fetch fails, the
// keys last fetched are still used. Only Ed25519 and P-256 public keys are
// kept; others are ignored.
type JWKSSource struct {
	cfg JWKSConfig

	fetch sync.Mutex // one fetch at a time
	mu    sync.RWMutex
	keys  map[string]jwk.Key
	got   time.Time // last successful fetch
	tried time.Time // last attempt
}

var _ KeySource = (*JWKSSource)(nil)

// NewJWKSSource checks cfg and returns a source; it fetches nothing yet.
func NewJWKSSource(cfg JWKSConfig) (*JWKSSource, error) {
	if cfg.URL == "" {
		return nil, errors.New("jwks source: url is required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultJWKSMaxAge
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = DefaultJWKSMinRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &JWKSSource{cfg: cfg}, nil
}

// Key returns the key kid, fetching the set when needed.
func (s *JWKSSource) Key(ctx context.Context, _, kid string) (jwk.Key, error) {
	k, ok, fresh := s.lookup(kid)
	if ok && fresh {
		return k, nil
	}
	s.fetch.Lock()
	defer s.fetch.Unlock()
	if k, ok, fresh = s.lookup(kid); ok && fresh { // fetched meanwhile
		return k, nil
	}
	var fetchErr error
	if s.mayFetch() {
		fetchErr = s.refresh(ctx)
		k, ok, _ = s.lookup(kid)
	}
	switch {
	case ok:
		return k, nil
	case s.empty():
		if fetchErr == nil {
			fetchErr = errors.New("not fetched yet")
		}
		return jwk.Key{}, fmt.Errorf("%w: %s: %w", ErrKeysUnavailable, s.cfg.URL, fetchErr)
	default:
		return jwk.Key{}, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
	}
}

func (s *JWKSSource) lookup(kid string) (k jwk.Key, ok, fresh bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok = s.keys[kid]
	return k, ok, s.cfg.Now().Sub(s.got) < s.cfg.MaxAge
}

func (s *JWKSSource) empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys == nil
}

func (s *JWKSSource) mayFetch() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tried.IsZero() || s.cfg.Now().Sub(s.tried) >= s.cfg.MinRefresh
}

func (s *JWKSSource) refresh(ctx context.Context) error {
	now := s.cfg.Now()
	s.mu.Lock()
	s.tried = now
	s.mu.Unlock()
	keys, err := s.get(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.keys, s.got = keys, now
	s.mu.Unlock()
	return nil
}

func (s *JWKSSource) get(ctx context.Context) (map[string]jwk.Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("read jwks: %w", err)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("jwks larger than %d bytes", maxJWKSSize)
	}
	return ParseJWKS(body)
}

// ParseJWKS reads a JWK Set and keeps the usable signing keys: public
// Ed25519 or P-256 keys with a kid, use "sig" or none, and an alg matching
// the key or none. Other keys are skipped, so an issuer can publish keys
// aip does not use.
func ParseJWKS(data []byte) (map[string]jwk.Key, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	keys := make(map[string]jwk.Key, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue
		}
		if k.KeyID == "" || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		alg, err := jwk.Algorithm(k.Key)
		if err != nil || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		keys[k.KeyID] = jwk.Key{ID: k.KeyID, Algorithm: alg, Public: k.Key}
	}
	return keys, nil
}
