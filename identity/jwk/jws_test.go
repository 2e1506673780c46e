package jwk_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/jwk"
)

// fakeSigner is a hand-written Signer for the error paths a real backend
// cannot be made to take.
type fakeSigner struct {
	key        jwk.Key
	currentErr error
	sig        []byte
	signErr    error
}

func (f fakeSigner) Current(context.Context) (jwk.Key, error) { return f.key, f.currentErr }
func (f fakeSigner) Sign(context.Context, string, []byte) ([]byte, error) {
	return f.sig, f.signErr
}

// keySigner is a Signer over an in-memory key.
type keySigner struct {
	key  jwk.Key
	priv ed25519.PrivateKey
}

func (k keySigner) Current(context.Context) (jwk.Key, error) { return k.key, nil }
func (k keySigner) Sign(_ context.Context, _ string, input []byte) ([]byte, error) {
	return jwk.Sign(k.priv, input)
}

func TestSignJWS(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := keySigner{key: jwk.Key{ID: "k1", Algorithm: jwk.EdDSA, Public: pub}, priv: priv}
	tok, err := jwk.SignJWS(context.Background(), s, "aat+jwt", json.RawMessage(`{"sub":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var dec [3][]byte
	for i, part := range parts {
		if dec[i], err = base64.RawURLEncoding.DecodeString(part); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if h := string(dec[0]); h != `{"alg":"EdDSA","kid":"k1","typ":"aat+jwt"}` {
		t.Fatalf("header %s", h)
	}
	if p := string(dec[1]); p != `{"sub":"alice"}` {
		t.Fatalf("payload %s", p)
	}
	sig := dec[2]
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("signature does not verify")
	}
}

func TestSignJWSErrors(t *testing.T) {
	errDown := errors.New("backend down")
	good := jwk.Key{ID: "k1", Algorithm: jwk.EdDSA}
	tests := []struct {
		name    string
		s       fakeSigner
		claims  any
		wantErr error
	}{
		{"backend down", fakeSigner{currentErr: errDown}, 1, errDown},
		{"sign fails", fakeSigner{key: good, signErr: errDown}, 1, errDown},
		{"hs256 key", fakeSigner{key: jwk.Key{ID: "k", Algorithm: "HS256"}, sig: make([]byte, 64)}, 1, nil},
		{"short signature", fakeSigner{key: good, sig: make([]byte, 10)}, 1, nil},
		{"unencodable claims", fakeSigner{key: good, sig: make([]byte, 64)}, make(chan int), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := jwk.SignJWS(context.Background(), tt.s, "aat+jwt", tt.claims)
			if err == nil {
				t.Fatalf("signed %q", tok)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
