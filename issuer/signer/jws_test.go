package signer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/go-jose/go-jose/v4"

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
			token, err := signer.SignJWS(context.Background(), l, "aat+jwt", json.RawMessage(`{"sub":"alice"}`))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(verifyWithJWKS(t, l, token, "aat+jwt")); got != `{"sub":"alice"}` {
				t.Fatalf("payload %s", got)
			}
		})
	}
}

// fakeSigner is a hand-written Signer for the error paths a real backend
// cannot be made to take.
type fakeSigner struct {
	key        signer.Key
	currentErr error
	sig        []byte
	signErr    error
}

func (f fakeSigner) Current(context.Context) (signer.Key, error) { return f.key, f.currentErr }
func (f fakeSigner) Sign(context.Context, string, []byte) ([]byte, error) {
	return f.sig, f.signErr
}
func (f fakeSigner) PublicKeys(context.Context) ([]signer.Key, error) {
	return []signer.Key{f.key}, f.currentErr
}

func TestSignJWSErrors(t *testing.T) {
	good := signer.Key{ID: "k1", Algorithm: signer.EdDSA}
	tests := []struct {
		name    string
		s       fakeSigner
		claims  any
		wantErr error
	}{
		{"backend down", fakeSigner{currentErr: signer.ErrUnavailable}, 1, signer.ErrUnavailable},
		{"sign fails", fakeSigner{key: good, signErr: signer.ErrUnavailable}, 1, signer.ErrUnavailable},
		{"hs256 key", fakeSigner{key: signer.Key{ID: "k", Algorithm: "HS256"}, sig: make([]byte, 64)}, 1, nil},
		{"short signature", fakeSigner{key: good, sig: make([]byte, 10)}, 1, nil},
		{"unencodable claims", fakeSigner{key: good, sig: make([]byte, 64)}, make(chan int), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := signer.SignJWS(context.Background(), tt.s, "aat+jwt", tt.claims)
			if err == nil {
				t.Fatalf("signed %q", tok)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
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
