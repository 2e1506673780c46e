package aat_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "https://mcp.test/files"
)

// t0 is the fixed time of the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// localSigner is a real LocalFile signer in a temp dir.
func localSigner(t testing.TB, alg string) *signer.LocalFile {
	t.Helper()
	s, err := signer.OpenLocalFile(signer.LocalConfig{Path: filepath.Join(t.TempDir(), "k.pem"), Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func currentKey(t testing.TB, s signer.Signer) jwk.Key {
	t.Helper()
	k, err := s.Current(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// validClaims are complete claims at t0.
func validClaims() aat.Claims {
	return aat.Claims{
		Issuer:    testIssuer,
		Subject:   "alice@example.com",
		Actor:     aat.Actor{Subject: "spiffe://example.org/agent/coder"},
		Audience:  jwt.Audience{testAudience},
		IssuedAt:  jwt.NumericDate(t0.Unix()),
		NotBefore: jwt.NumericDate(t0.Unix()),
		Expiry:    jwt.NumericDate(t0.Add(5 * time.Minute).Unix()),
		ID:        "jti-1",
		Version:   aat.Version,
		Agent:     aat.Agent{ID: "coder", SPIFFEID: "spiffe://example.org/agent/coder"},
		UserBinding: aat.UserBinding{
			UserID: "alice", Issuer: "https://dex.test", AuthMethod: "oidc",
			AuthTime: jwt.NumericDate(t0.Add(-time.Hour).Unix()), Groups: []string{"dev"},
		},
		Capabilities: aat.Capabilities{Tools: []string{"read_file"}},
		SessionID:    "s-1",
		PolicyHash:   "sha256:abc",
		Nonce:        "n-1",
		Confirmation: &aat.Confirmation{JKT: "jkt-1"},
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forge builds a compact JWS from any header and payload, signed by sign
// (nil: empty signature).
func forge(t testing.TB, header map[string]any, payload any, sign func(input []byte) []byte) string {
	t.Helper()
	var p []byte
	if raw, ok := payload.(string); ok {
		p = []byte(raw)
	} else {
		p = mustJSON(t, payload)
	}
	input := b64(mustJSON(t, header)) + "." + b64(p)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

func signWith(t testing.TB, priv crypto.Signer) func([]byte) []byte {
	return func(input []byte) []byte {
		sig, err := jwk.Sign(priv, input)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func hs256(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(t testing.TB, token string, edit func(c *aat.Claims)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c aat.Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	edit(&c)
	return parts[0] + "." + b64(mustJSON(t, c)) + "." + parts[2]
}

func jsonRoundTrip(t testing.TB, in, out any) {
	t.Helper()
	if err := json.Unmarshal(mustJSON(t, in), out); err != nil {
		t.Fatal(err)
	}
}

func b64Decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
