package ed25519v

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
)

func keyPairs(tb testing.TB, n int) ([]ed25519.PublicKey, []ed25519.PrivateKey) {
	tb.Helper()
	pubs, privs := make([]ed25519.PublicKey, n), make([]ed25519.PrivateKey, n)
	for i := range n {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), byte(i>>8)
		privs[i] = ed25519.NewKeyFromSeed(seed)
		pubs[i] = privs[i].Public().(ed25519.PublicKey)
	}
	return pubs, privs
}

func (c *Cache) held() int {
	n := 0
	for i := range c.entries {
		if c.entries[i].Load() != nil {
			n++
		}
	}
	return n
}

func TestNewCacheSize(t *testing.T) {
	tests := []struct{ size, want int }{
		{0, DefaultCacheSize}, {-1, DefaultCacheSize}, {1, ways}, {ways, ways},
		{ways + 1, 2 * ways}, {1000, 1024}, {1024, 1024}, {1025, 2048},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			if got := len(NewCache(tt.size).entries); got != tt.want {
				t.Fatalf("NewCache(%d) holds %d keys, want %d", tt.size, got, tt.want)
			}
		})
	}
}

// A key in use is decoded once: the cache returns the same PublicKey.
func TestCacheHit(t *testing.T) {
	c := NewCache(0)
	pubs, privs := keyPairs(t, 2)
	first, err := c.Key(pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Key(pubs[1]); err != nil {
		t.Fatal(err)
	}
	again, err := c.Key(append([]byte{}, pubs[0]...))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Fatal("key decoded again")
	}
	msg := []byte("header.payload")
	sig := ed25519.Sign(privs[0], msg)
	if allocs := testing.AllocsPerRun(100, func() {
		if !c.Verify(pubs[0], msg, sig) {
			t.Fatal("refused")
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations per verification with a cached key", allocs)
	}
}

// Many distinct keys, as an attacker would send, never hold more than the
// cache's size, and every one still verifies.
func TestCacheBounded(t *testing.T) {
	c := NewCache(64)
	msg := []byte("header.payload")
	for i := range 5000 {
		pub := make([]byte, 32)
		if _, err := rand.Read(pub); err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		sig[0] = byte(i)
		check(t, c, pub, msg, sig)
	}
	if n := c.held(); n > 64 || len(c.entries) != 64 {
		t.Fatalf("holds %d keys in %d entries, want at most 64", n, len(c.entries))
	}
	pubs, privs := keyPairs(t, 200)
	for i := range pubs {
		if !c.Verify(pubs[i], msg, ed25519.Sign(privs[i], msg)) {
			t.Fatalf("key %d refused", i)
		}
	}
	if n := c.held(); n > 64 {
		t.Fatalf("holds %d keys, want at most 64", n)
	}
}

// Keys that do not decode are not kept.
func TestCacheKeepsNoBadKey(t *testing.T) {
	c := NewCache(8)
	for y := range 64 {
		pub := make([]byte, 32)
		pub[0] = byte(y)
		if _, err := NewPublicKey(pub); err == nil {
			continue
		}
		if _, err := c.Key(pub); err == nil {
			t.Fatalf("key %x decoded", pub)
		}
	}
	if _, err := c.Key(make([]byte, 31)); err == nil {
		t.Fatal("31-byte key decoded")
	}
	if n := c.held(); n != 0 {
		t.Fatalf("holds %d keys", n)
	}
}

// Goroutines sharing a cache smaller than their keys, so that lookups,
// insertions and evictions race (run with -race).
func TestCacheConcurrent(t *testing.T) {
	c := NewCache(8)
	hammer(t, c, 32, 8, 300, func(g, n int) int { return g*7 + n })
	if n := c.held(); n > 8 {
		t.Fatalf("holds %d keys", n)
	}
}

// hammer signs a message with each of nkeys keys, then verifies from
// goroutines concurrent goroutines, rounds times each: key pick(g, n) (mod
// nkeys) must accept its signature and the next key must refuse it.
func hammer(t *testing.T, c *Cache, nkeys, goroutines, rounds int, pick func(g, n int) int) {
	t.Helper()
	pubs, privs := keyPairs(t, nkeys)
	msgs := make([][]byte, len(pubs))
	sigs := make([][]byte, len(pubs))
	for i := range pubs {
		msgs[i] = fmt.Appendf(nil, "message %d", i)
		sigs[i] = ed25519.Sign(privs[i], msgs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for n := range rounds {
				i := pick(g, n) % len(pubs)
				if !c.Verify(pubs[i], msgs[i], sigs[i]) {
					errs <- fmt.Errorf("goroutine %d: key %d refused", g, i)
					return
				}
				j := (i + 1) % len(pubs)
				if c.Verify(pubs[j], msgs[i], sigs[i]) {
					errs <- fmt.Errorf("goroutine %d: key %d accepted the signature of key %d", g, j, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
