package aat_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

// jwksServer serves the JWKS of a signer, counting requests; it can be
// switched to failing.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	s    signer.Signer
	down bool
}

func newJWKSServer(t *testing.T, s signer.Signer) *jwksServer {
	t.Helper()
	js := &jwksServer{s: s}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		js.mu.Lock()
		down, s := js.down, js.s
		js.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		set, err := signer.JWKS(r.Context(), s)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) setDown(down bool) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.down = down
}

func TestJWKSSourceCachesAndRefreshes(t *testing.T) {
	ctx := context.Background()
	l := localSigner(t, jwk.EdDSA)
	srv := newJWKSServer(t, l)
	clk := struct{ now time.Time }{t0}
	src, err := aat.NewJWKSSource(aat.JWKSConfig{
		URL: srv.URL, MaxAge: time.Minute, MinRefresh: 10 * time.Second, Now: func() time.Time { return clk.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	kid := currentKey(t, l).ID

	steps := []struct {
		name     string
		advance  time.Duration
		kid      string
		down     bool
		rotate   bool
		wantErr  error
		wantHits int32
	}{
		{"first use fetches", 0, kid, false, false, nil, 1},
		{"cached", time.Second, kid, false, false, nil, 1},
		{"unknown kid refetches after MinRefresh", 10 * time.Second, "unknown", false, false, aat.ErrUnknownKey, 2},
		{"unknown kid again is rate limited", time.Second, "unknown", false, false, aat.ErrUnknownKey, 2},
		{"and again after MinRefresh", 10 * time.Second, "unknown", false, false, aat.ErrUnknownKey, 3},
		{"known kid still cached", 0, kid, false, false, nil, 3},
		{"stale set is refetched", time.Minute, kid, false, false, nil, 4},
		{"issuer down: last keys still used", time.Minute, kid, true, false, nil, 5},
		{"issuer down: no refetch before MinRefresh", time.Second, kid, true, false, nil, 5},
		{"rotation: new kid fetched", 10 * time.Second, "", false, true, nil, 6},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.now = clk.now.Add(st.advance)
			srv.setDown(st.down)
			want := st.kid
			if st.rotate {
				k, err := l.Rotate(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want = k.ID
			}
			k, err := src.Key(ctx, testIssuer, want)
			if st.wantErr != nil {
				if !errors.Is(err, st.wantErr) {
					t.Fatalf("err = %v, want %v", err, st.wantErr)
				}
			} else if err != nil || k.ID != want {
				t.Fatalf("Key(%s) = %v, %v", want, k.ID, err)
			}
			if got := srv.hits.Load(); got != st.wantHits {
				t.Fatalf("%d fetches, want %d", got, st.wantHits)
			}
		})
	}
}

func TestJWKSSourceUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"503", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "x", http.StatusServiceUnavailable) }},
		{"404", http.NotFound},
		{"not json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{"too large", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 2<<20) + `]}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Key(context.Background(), testIssuer, "k")
			if !errors.Is(err, aat.ErrKeysUnavailable) {
				t.Fatalf("err = %v, want ErrKeysUnavailable", err)
			}
		})
	}
	if _, err := aat.NewJWKSSource(aat.JWKSConfig{}); err == nil {
		t.Fatal("source without url accepted")
	}
}

func TestParseJWKSKeepsOnlyUsableKeys(t *testing.T) {
	ed := currentKey(t, localSigner(t, jwk.EdDSA))
	ec := currentKey(t, localSigner(t, jwk.ES256))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: ed.Public, KeyID: "ed"},
		{Key: ec.Public, KeyID: "ec", Algorithm: "ES256", Use: "sig"},
		{Key: ed.Public, KeyID: "enc", Use: "enc"},
		{Key: ed.Public, KeyID: "wrong-alg", Algorithm: "ES256"},
		{Key: ec.Public, KeyID: "hs-alg", Algorithm: "HS256"},
		{Key: &rsaKey.PublicKey, KeyID: "rsa"},
		{Key: rsaKey, KeyID: "rsa-private"},
		{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct"},
		{Key: ed.Public},
	}}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	// An unparseable member is skipped, not fatal.
	raw = []byte(strings.Replace(string(raw), `{"keys":[`, `{"keys":[{"kty":"XYZ","kid":"weird"},`, 1))
	keys, err := aat.ParseJWKS(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys["ed"].Algorithm != jwk.EdDSA || keys["ec"].Algorithm != jwk.ES256 {
		t.Fatalf("kept %v", keys)
	}
}

func TestVerifyThroughJWKS(t *testing.T) {
	l := localSigner(t, jwk.ES256)
	srv := newJWKSServer(t, l)
	src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{testIssuer: src}, Audience: testAudience, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), mint(t, l, nil)); err != nil {
		t.Fatal(err)
	}
}
