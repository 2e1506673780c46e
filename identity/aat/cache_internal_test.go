package aat

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

func TestVerifiedCacheBound(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key := func(i int) [sha256.Size]byte { return sha256.Sum256(fmt.Appendf(nil, "token-%d", i)) }
	const size = 5
	c := newVerifiedCache(size)
	for i := range 3 * size {
		c.put(key(i), &Claims{ID: fmt.Sprint(i), Expiry: jwt.NumericDate(t0.Add(time.Hour).Unix())}, t0)
		if n := c.len(); n > size || len(c.entries) != n {
			t.Fatalf("after %d puts: %d in the list, %d in the map; bound %d", i+1, n, len(c.entries), size)
		}
	}
	for i := range 3 * size {
		got := c.get(key(i), t0)
		if kept := i >= 2*size; (got != nil) != kept {
			t.Fatalf("token %d: got %v, want kept %v (the oldest go first)", i, got, kept)
		}
	}
	// CacheMaxAge after verification (before the token's exp) an entry is
	// dropped, not returned: a key removed from the JWKS takes effect.
	if got := c.get(key(3*size-1), t0.Add(CacheMaxAge)); got != nil {
		t.Fatalf("entry returned CacheMaxAge after verification: %+v", got)
	}
	if n := c.len(); n != size-1 || len(c.entries) != n {
		t.Fatalf("after expiry: %d in the list, %d in the map, want %d", n, len(c.entries), size-1)
	}
}

func TestVerifiedCacheExpiresAtTokenExp(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	k := sha256.Sum256([]byte("short-lived"))
	c := newVerifiedCache(2)
	c.put(k, &Claims{ID: "x", Expiry: jwt.NumericDate(t0.Add(10 * time.Second).Unix())}, t0)
	if c.get(k, t0.Add(9*time.Second)) == nil {
		t.Fatal("entry missing before the token's exp")
	}
	if c.get(k, t0.Add(10*time.Second)) != nil {
		t.Fatal("entry returned at the token's exp (sooner than CacheMaxAge)")
	}
}
