package signer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

// verifyWithJWKS verifies token with go-jose against the JSON form of the
// signer's JWKS, as a remote verifier would, and returns the payload.
func verifyWithJWKS(t *testing.T, s signer.Signer, token, wantTyp string) []byte {
	t.Helper()
	set, err := signer.JWKS(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var remote jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &remote); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != wantTyp {
		t.Fatalf("typ %v, want %s", typ, wantTyp)
	}
	keys := remote.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	if keys[0].Algorithm != h.Algorithm || keys[0].Use != "sig" {
		t.Fatalf("jwk alg %s use %s, header alg %s", keys[0].Algorithm, keys[0].Use, h.Algorithm)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verify against jwks: %v", err)
	}
	return payload
}

func TestSignJWSVerifiesWithGoJose(t *testing.T) {
	for _, alg := range []string{signer.EdDSA, signer.ES256} {
		t.Run(alg, func(t *testing.T) {
			l := openLocal(t, signer.LocalConfig{Path: filepath.Join(t.TempDir(), "k.pem"), Algorithm: alg})
			token, err := jwk.SignJWS(context.Background(), l, "aat+jwt", json.RawMessage(`{"sub":"alice"}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(verifyWithJWKS(t, l, token, "aat+jwt")); got != `{"sub":"alice"}` {
				t.Fatalf("payload %s", got)
			}
		})
	}
}

// fakeSigner is a hand-written Signer publishing one given key.
type fakeSigner struct{ key signer.Key }

func (f fakeSigner) Current(context.Context) (signer.Key, error) { return f.key, nil }
func (f fakeSigner) Sign(context.Context, string, []byte) ([]byte, error) {
	return nil, signer.ErrUnknownKey
}
func (f fakeSigner) PublicKeys(context.Context) ([]signer.Key, error) {
	return []signer.Key{f.key}, nil
}

func TestJWKSRefusesMismatchedKey(t *testing.T) {
	l := openLocal(t, signer.LocalConfig{Path: filepath.Join(t.TempDir(), "k.pem")})
	k, _ := l.Current(context.Background())
	k.Algorithm = signer.ES256 // an Ed25519 key announced as ES256
	if _, err := signer.JWKS(context.Background(), fakeSigner{key: k}); err == nil {
		t.Fatal("JWKS published a key under the wrong algorithm")
	}
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
