package signer_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/test/env"
)

// vaultEnv returns the shared real Vault dev server.
func vaultEnv(t testing.TB) *env.VaultServer {
	t.Helper()
	if testing.Short() {
		t.Skip("integration: needs real Vault")
	}
	return env.Vault(t)
}

func keyName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func newTransit(t testing.TB, cfg signer.TransitConfig) *signer.Transit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := signer.NewTransit(ctx, cfg)
	if err != nil {
		t.Fatalf("NewTransit: %v", err)
	}
	return s
}

func TestTransitSignVerifies(t *testing.T) {
	v := vaultEnv(t)
	for _, keyType := range []string{signer.TransitEd25519, signer.TransitECDSAP256} {
		t.Run(keyType, func(t *testing.T) {
			ctx := context.Background()
			name := keyName("sign")
			s := newTransit(t, signer.TransitConfig{Address: v.Addr, Token: v.Token, Key: name, KeyType: keyType, Create: true})

			k, err := s.Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != name+"-v1" {
				t.Fatalf("kid %q, want %s-v1", k.ID, name)
			}
			for i := range 5 { // several signatures: ES256 r/s with leading zeros
				token, err := jwk.SignJWS(ctx, s, "aat+jwt", map[string]int{"i": i})
				if err != nil {
					t.Fatal(err)
				}
				verifyRaw(t, token, k)
				if got := string(verifyWithJWKS(t, s, token, "aat+jwt")); got != fmt.Sprintf(`{"i":%d}`, i) {
					t.Fatalf("payload %s", got)
				}
			}

			// The key was created non-exportable.
			secret, err := v.Client(t).Logical().Read("transit/keys/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if secret.Data["exportable"] != false || secret.Data["type"] != keyType {
				t.Fatalf("vault key: exportable=%v type=%v", secret.Data["exportable"], secret.Data["type"])
			}
		})
	}
}

func TestTransitRotation(t *testing.T) {
	v := vaultEnv(t)
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	name := keyName("rotate")
	s := newTransit(t, signer.TransitConfig{
		Address: v.Addr, Token: v.Token, Key: name, KeyType: signer.TransitECDSAP256, Create: true,
		Retain: 10 * time.Minute, Now: clk.Now,
	})
	oldToken, err := jwk.SignJWS(ctx, s, "aat+jwt", map[string]string{"v": "1"})
	if err != nil {
		t.Fatal(err)
	}
	next, err := s.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID != name+"-v2" {
		t.Fatalf("after rotation kid %s, want %s-v2", next.ID, name)
	}
	newToken, err := jwk.SignJWS(ctx, s, "aat+jwt", map[string]string{"v": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(headerOf(t, newToken), name+"-v2") {
		t.Fatal("new token not signed with v2")
	}
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != name+"-v2" || keys[1].ID != name+"-v1" || keys[1].NotAfter.IsZero() {
		t.Fatalf("published %+v, want v2 then v1 with a NotAfter", keys)
	}
	verifyWithJWKS(t, s, oldToken, "aat+jwt")
	verifyWithJWKS(t, s, newToken, "aat+jwt")
	if _, err := s.Sign(ctx, name+"-v1", []byte("a.b")); err != nil {
		t.Fatalf("retired but published version must still sign: %v", err)
	}

	// Once Retain has passed since v2 was created, v1 is gone.
	clk.Add(11 * time.Minute)
	keys, err = s.PublicKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != name+"-v2" {
		t.Fatalf("published %+v, want only v2", keys)
	}
	if _, err := s.Sign(ctx, name+"-v1", []byte("a.b")); !errors.Is(err, signer.ErrUnknownKey) {
		t.Fatalf("sign with expired version: err = %v, want ErrUnknownKey", err)
	}
}

func TestTransitRefuses(t *testing.T) {
	v := vaultEnv(t)
	exportable := keyName("exportable")
	if _, err := v.Client(t).Logical().Write("transit/keys/"+exportable, map[string]any{"type": "ed25519", "exportable": true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     signer.TransitConfig
		wantErr error
	}{
		{"exportable key", signer.TransitConfig{Key: exportable}, signer.ErrKeyPolicy},
		{"type mismatch", signer.TransitConfig{Key: v.TransitKey, KeyType: signer.TransitECDSAP256}, signer.ErrKeyPolicy},
		{"missing key without create", signer.TransitConfig{Key: keyName("missing")}, nil},
		{"unsupported key type", signer.TransitConfig{Key: keyName("rsa"), KeyType: "rsa-2048", Create: true}, nil},
		{"bad token", signer.TransitConfig{Key: v.TransitKey, Token: "not-the-token"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Address = v.Addr
			if cfg.Token == "" {
				cfg.Token = v.Token
			}
			_, err := signer.NewTransit(context.Background(), cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(err, signer.ErrUnavailable) {
				t.Fatalf("configuration error reported as unavailable: %v", err)
			}
		})
	}

	s := newTransit(t, signer.TransitConfig{Address: v.Addr, Token: v.Token, Key: v.TransitKey})
	for _, kid := range []string{"", "other-v1", v.TransitKey + "-v0", v.TransitKey + "-v01", v.TransitKey + "-v99", v.TransitKey + "-v-1", "../" + v.TransitKey + "-v1"} {
		t.Run("kid "+kid, func(t *testing.T) {
			if _, err := s.Sign(context.Background(), kid, []byte("a.b")); !errors.Is(err, signer.ErrUnknownKey) {
				t.Fatalf("err = %v, want ErrUnknownKey", err)
			}
		})
	}
}

// TestTransitVaultStopped stops the shared Vault: it restarts it at the end
// (empty but for transit/ and TransitKey).
func TestTransitVaultStopped(t *testing.T) {
	v := vaultEnv(t)
	ctx := context.Background()
	clk := &clock{now: time.Now()}
	s := newTransit(t, signer.TransitConfig{
		Address: v.Addr, Token: v.Token, Key: v.TransitKey, Timeout: time.Second, CacheTTL: time.Minute, Now: clk.Now,
	})
	if _, err := jwk.SignJWS(ctx, s, "aat+jwt", 1); err != nil {
		t.Fatal(err)
	}

	v.Stop(t)
	t.Cleanup(func() { v.Start(t) })

	// Signing needs Vault even with cached keys.
	start := time.Now()
	_, err := jwk.SignJWS(ctx, s, "aat+jwt", 2)
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("sign with vault stopped: err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("failing took %s: want a short timeout", d)
	}
	clk.Add(2 * time.Minute) // the cache is stale: Current must ask Vault
	if _, err := s.Current(ctx); !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("current with vault stopped: err = %v, want ErrUnavailable", err)
	}
	if keys, err := s.PublicKeys(ctx); err != nil || len(keys) != 1 {
		t.Fatalf("public keys during the outage: %v, %v (want the last known)", keys, err)
	}
	_, err = signer.NewTransit(ctx, signer.TransitConfig{Address: v.Addr, Token: v.Token, Key: v.TransitKey})
	if !errors.Is(err, signer.ErrUnavailable) {
		t.Fatalf("new signer with vault stopped: err = %v, want ErrUnavailable", err)
	}

	// Back up (a new dev server: TransitKey is a new key): signing recovers.
	v.Start(t)
	clk.Add(2 * time.Minute)
	token, err := jwk.SignJWS(ctx, s, "aat+jwt", 3)
	if err != nil {
		t.Fatalf("sign after recovery: %v", err)
	}
	verifyWithJWKS(t, s, token, "aat+jwt")
}

// TestTransitUnavailableAnswers covers answers a real Vault gives only in
// states a test cannot easily put it in (overloaded, internal errors).
func TestTransitUnavailableAnswers(t *testing.T) {
	tests := []struct {
		name            string
		status          int
		wantUnavailable bool
	}{
		{"500", http.StatusInternalServerError, true},
		{"502", http.StatusBadGateway, true},
		{"503 sealed", http.StatusServiceUnavailable, true},
		{"429", http.StatusTooManyRequests, true},
		{"403 is configuration", http.StatusForbidden, false},
		{"400 is configuration", http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"errors":["nope"]}`))
			}))
			defer srv.Close()
			_, err := signer.NewTransit(context.Background(), signer.TransitConfig{Address: srv.URL, Token: "t", Key: "k"})
			if err == nil {
				t.Fatal("accepted")
			}
			if got := errors.Is(err, signer.ErrUnavailable); got != tt.wantUnavailable {
				t.Fatalf("ErrUnavailable = %v, want %v (%v)", got, tt.wantUnavailable, err)
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := srv.URL
		srv.Close()
		_, err := signer.NewTransit(context.Background(), signer.TransitConfig{Address: addr, Token: "t", Key: "k"})
		if !errors.Is(err, signer.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
}

func headerOf(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	return decodeB64(t, h)
}
