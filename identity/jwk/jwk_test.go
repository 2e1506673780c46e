package jwk_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/aip-project/aip/identity/jwk"
)

// RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
func TestThumbprintRFC8037(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	got, err := jwk.Thumbprint(ed25519.PublicKey(x))
	if err != nil {
		t.Fatal(err)
	}
	if want := "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("thumbprint = %s, want %s", got, want)
	}
}

func TestAlgorithm(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		name    string
		pub     crypto.PublicKey
		want    string
		wantErr bool
	}{
		{"ed25519", edPub, jwk.EdDSA, false},
		{"p256", &p256.PublicKey, jwk.ES256, false},
		{"p384 refused", &p384.PublicKey, "", true},
		{"rsa refused", &rsaKey.PublicKey, "", true},
		{"short ed25519 refused", edPub[:10], "", true},
		{"nil refused", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jwk.Algorithm(tt.pub)
			if tt.wantErr {
				if !errors.Is(err, jwk.ErrUnsupportedKey) {
					t.Fatalf("err = %v, want ErrUnsupportedKey", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Algorithm = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherEd, _, _ := ed25519.GenerateKey(rand.Reader)
	otherEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	input := []byte("header.payload")
	tests := []struct {
		name  string
		priv  crypto.Signer
		alg   string
		other crypto.PublicKey
	}{
		{"ed25519", edPriv, jwk.EdDSA, otherEd},
		{"p256", ecPriv, jwk.ES256, &otherEC.PublicKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // r or s with leading zero bytes must still pad to 32
				sig, err := jwk.Sign(tt.priv, input)
				if err != nil {
					t.Fatal(err)
				}
				if len(sig) != jwk.SignatureSize {
					t.Fatalf("signature of %d bytes", len(sig))
				}
				if err := jwk.Verify(tt.priv.Public(), tt.alg, input, sig); err != nil {
					t.Fatalf("own signature: %v", err)
				}
				if err := jwk.Verify(tt.other, tt.alg, input, sig); !errors.Is(err, jwk.ErrBadSignature) {
					t.Fatalf("other key: err = %v", err)
				}
				if err := jwk.Verify(tt.priv.Public(), tt.alg, []byte("header.other"), sig); !errors.Is(err, jwk.ErrBadSignature) {
					t.Fatalf("other input: err = %v", err)
				}
			}
			wrongAlg := jwk.ES256
			if tt.alg == jwk.ES256 {
				wrongAlg = jwk.EdDSA
			}
			if err := jwk.Verify(tt.priv.Public(), wrongAlg, input, make([]byte, 64)); !errors.Is(err, jwk.ErrUnsupportedKey) {
				t.Fatalf("wrong alg: err = %v", err)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", "abc", "abc", true},
		{"different", "abc", "abd", false},
		{"prefix", "abc", "ab", false},
		{"both empty", "", "", false},
		{"one empty", "abc", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jwk.Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal = %v", got)
			}
		})
	}
}

func TestHashB64(t *testing.T) {
	// SHA-256("") in base64url.
	if got, want := jwk.HashB64(nil), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"; got != want {
		t.Fatalf("HashB64 = %s, want %s", got, want)
	}
}
