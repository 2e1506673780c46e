package aat_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
)

// countingKeys counts key lookups: a verification that reaches the
// signature looks its key up, a cache hit does not.
type countingKeys struct {
	aat.StaticKeys
	n atomic.Int64
}

func (k *countingKeys) Key(ctx context.Context, iss, kid string) (jwk.Key, error) {
	k.n.Add(1)
	return k.StaticKeys.Key(ctx, iss, kid)
}

// cachedFixture is a verifier with a cache of size, a clock the test
// moves and a count of key lookups; plain verifies the same way uncached.
type cachedFixture struct {
	fixture
	keys  *countingKeys
	now   atomic.Int64 // unix nanoseconds
	plain *aat.Verifier
}

func newCachedFixture(t *testing.T, size int) *cachedFixture {
	t.Helper()
	f := &cachedFixture{}
	f.now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, f.now.Load()).UTC() }
	f.fixture = newFixture(t, func(c *aat.Config) {
		f.keys = &countingKeys{StaticKeys: c.Issuers[testIssuer].(aat.StaticKeys)}
		c.Issuers = map[string]aat.KeySource{testIssuer: f.keys}
		c.Now, c.CacheSize = clock, size
	})
	plain, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{testIssuer: aat.StaticKeys{f.edKey, f.ecKey}},
		Audience: testAudience, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.plain = plain
	return f
}

func (f *cachedFixture) at(d time.Duration) { f.now.Store(t0.Add(d).UnixNano()) }

// verify checks token with the cached verifier and reports whether the
// signature was checked (a miss).
func (f *cachedFixture) verify(t *testing.T, token string) (*aat.Claims, bool, error) {
	t.Helper()
	before := f.keys.n.Load()
	c, err := f.verifier.Verify(context.Background(), token)
	return c, f.keys.n.Load() != before, err
}

func TestVerifyCacheHits(t *testing.T) {
	f := newCachedFixture(t, 10)
	tok := mint(t, f.ed, nil)
	if _, missed, err := f.verify(t, tok); err != nil || !missed {
		t.Fatalf("first Verify: missed %v, err %v; want a miss and no error", missed, err)
	}
	f.at(aat.CacheMaxAge / 2)
	c, missed, err := f.verify(t, tok)
	if err != nil || missed {
		t.Fatalf("second Verify: missed %v, err %v; want a hit", missed, err)
	}
	want, err := f.plain.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("cached claims %+v, want %+v", c, want)
	}

	// The caller's copy is its own: changing it changes no later result.
	c.Subject, c.Capabilities.Tools[0], c.Audience[0], c.Confirmation.JKT = "root", "delete_all", "x", "x"
	c.UserBinding.Groups[0] = "admin"
	again, missed, err := f.verify(t, tok)
	if err != nil || missed {
		t.Fatalf("third Verify: missed %v, err %v; want a hit", missed, err)
	}
	if !reflect.DeepEqual(again, want) {
		t.Fatalf("cached claims changed by a caller: %+v, want %+v", again, want)
	}
}

func TestVerifyCacheRefusesExpired(t *testing.T) {
	f := newCachedFixture(t, 10)
	tok := mint(t, f.ed, nil) // exp t0+5m
	if _, _, err := f.verify(t, tok); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		at    time.Duration
		valid bool
	}{
		{"before exp", 5*time.Minute - time.Second, true},
		{"after exp, within skew", 5*time.Minute + aat.DefaultSkew - time.Second, true},
		{"at exp plus skew", 5*time.Minute + aat.DefaultSkew, false},
		{"an hour later", time.Hour, false},
		{"clock back before exp", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.at(tt.at)
			_, _, err := f.verify(t, tok)
			_, wantErr := f.plain.Verify(context.Background(), tok)
			if (err == nil) != tt.valid {
				t.Fatalf("err = %v, want valid %v", err, tt.valid)
			}
			if !tt.valid && (!errors.Is(err, aat.ErrExpired) || err.Error() != wantErr.Error()) {
				t.Fatalf("err = %v, want the uncached %v", err, wantErr)
			}
		})
	}
}

func TestVerifyCacheNeverHitsOtherTokens(t *testing.T) {
	f := newCachedFixture(t, 10)
	good := mint(t, f.ed, nil)
	if _, _, err := f.verify(t, good); err != nil {
		t.Fatal(err)
	}
	lastSig := []byte(good)
	lastSig[len(lastSig)-2] ^= 1
	tests := []struct {
		name  string
		token string
	}{
		{"tampered claims", tamper(t, good, func(c *aat.Claims) { c.Capabilities.Tools = append(c.Capabilities.Tools, "delete_all") })},
		{"tampered signature", string(lastSig)},
		{"signature stripped", good[:len(good)-10]},
		{"trailing space", good + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 2 { // a refusal is not cached either
				if c, _, err := f.verify(t, tt.token); err == nil {
					t.Fatalf("Verify %d: accepted %+v", i, c)
				}
			}
		})
	}
	if _, missed, err := f.verify(t, good); err != nil || missed {
		t.Fatalf("good token: missed %v, err %v; want a hit", missed, err)
	}
}

func TestVerifyCacheDoesNotCacheRefusals(t *testing.T) {
	f := newCachedFixture(t, 10)
	tok := mint(t, f.ed, func(c *aat.Claims) { c.NotBefore = jwt.NumericDate(t0.Add(time.Minute).Unix()) })
	if _, missed, err := f.verify(t, tok); !errors.Is(err, aat.ErrNotYetValid) || !missed {
		t.Fatalf("missed %v, err %v; want ErrNotYetValid after a key lookup", missed, err)
	}
	f.at(time.Minute)
	if _, missed, err := f.verify(t, tok); err != nil || !missed {
		t.Fatalf("missed %v, err %v; want a fresh verification", missed, err)
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	const size = 3
	f := newCachedFixture(t, size)
	toks := make([]string, 2*size)
	for i := range toks {
		toks[i] = mint(t, f.ed, func(c *aat.Claims) { c.ID = fmt.Sprintf("jti-%d", i) })
		if _, _, err := f.verify(t, toks[i]); err != nil {
			t.Fatal(err)
		}
	}
	hits := 0
	for _, tok := range toks {
		if _, missed, err := f.verify(t, tok); err != nil {
			t.Fatal(err)
		} else if !missed {
			hits++
		}
	}
	if hits > size {
		t.Fatalf("%d hits among %d tokens, cache bound %d", hits, len(toks), size)
	}
}

// TestVerifyCacheConcurrent runs under -race in CI: tokens verified from
// many goroutines through a cache smaller than the set, with the clock
// moving past some tokens' exp.
func TestVerifyCacheConcurrent(t *testing.T) {
	f := newCachedFixture(t, 4)
	toks := make([]string, 8)
	for i := range toks {
		toks[i] = mint(t, f.ed, func(c *aat.Claims) {
			c.ID = fmt.Sprintf("jti-%d", i)
			c.Expiry = jwt.NumericDate(t0.Add(time.Duration(i+1) * time.Minute).Unix())
		})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if g == 0 && i%50 == 0 {
					f.at(time.Duration(i/50) * time.Minute)
				}
				tok := toks[(g+i)%len(toks)]
				c, err := f.verifier.Verify(context.Background(), tok)
				if err != nil && !errors.Is(err, aat.ErrExpired) {
					t.Errorf("Verify: %v", err)
					return
				}
				if err == nil {
					c.Capabilities.Tools = append(c.Capabilities.Tools[:0], "mine")
				}
			}
		})
	}
	wg.Wait()
}

func TestNewVerifierCacheSize(t *testing.T) {
	for _, size := range []int{-1, aat.MaxCacheSize + 1} {
		_, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{testIssuer: aat.StaticKeys{}},
			Audience: testAudience, CacheSize: size})
		if err == nil {
			t.Errorf("CacheSize %d accepted", size)
		}
	}
}
