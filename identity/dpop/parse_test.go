package dpop_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/identity/jwk"
)

// The proof parser refuses every header and key shape it does not
// understand, each with its reason; a good proof of each key type passes
// (the control) and its key's thumbprint is jwk.Thumbprint's.
func TestVerifyRefusesHeaders(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	okp := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(ed.Public().(ed25519.PublicKey))}
	ecJWK := func(x, y []byte) map[string]any {
		return map[string]any{"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}
	}
	ecBytes, _ := ec.PublicKey.Bytes() // 0x04 || x || y
	goodEC := ecJWK(ecBytes[1:33], ecBytes[33:])
	hdr := func(alg string, key map[string]any, extra ...string) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": key}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i]] = extra[i+1]
		}
		return h
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	edJKT, _ := jwk.Thumbprint(ed.Public())
	ecJKT, _ := jwk.Thumbprint(&ec.PublicKey)
	good := forge(t, hdr("EdDSA", okp), goodClaims(), signer(t, ed))
	tests := []struct {
		name  string
		proof string
		jkt   string
		want  error // nil: accepted
	}{
		{"control: Ed25519", good, edJKT, nil},
		{"control: P-256", forge(t, hdr("ES256", goodEC), goodClaims(), signer(t, ec)), ecJKT, nil},
		{"crit header", forge(t, with(hdr("EdDSA", okp), "crit", []string{"exp"}), goodClaims(), signer(t, ed)), edJKT, dpop.ErrMalformed},
		{"b64 header", forge(t, with(hdr("EdDSA", okp), "b64", false), goodClaims(), signer(t, ed)), edJKT, dpop.ErrMalformed},
		{"four parts", good + ".x", edJKT, dpop.ErrMalformed},
		{"padded base64", strings.Replace(good, ".", "=.", 1), edJKT, dpop.ErrMalformed},
		{"header not an object", b64([]byte(`["EdDSA"]`)) + "." + strings.SplitN(good, ".", 2)[1], edJKT, dpop.ErrMalformed},
		{"Ed25519 x too short", forge(t, hdr("EdDSA", with(okp, "x", b64(make([]byte, 31)))), goodClaims(), signer(t, ed)), edJKT, dpop.ErrMalformed},
		{"P-256 point off the curve", forge(t, hdr("ES256", ecJWK(ecBytes[1:33], make([]byte, 32))), goodClaims(), signer(t, ec)), ecJKT, dpop.ErrMalformed},
		{"P-256 y missing", forge(t, hdr("ES256", with(goodEC, "y", "")), goodClaims(), signer(t, ec)), ecJKT, dpop.ErrMalformed},
		{"RSA jwk", forge(t, hdr("EdDSA", map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB"}), goodClaims(), signer(t, ed)), edJKT, dpop.ErrSignature},
		{"P-384 jwk", forge(t, hdr("ES256", with(goodEC, "crv", "P-384")), goodClaims(), signer(t, ec)), ecJKT, dpop.ErrSignature},
		{"unknown kty", forge(t, hdr("EdDSA", with(okp, "kty", "XYZ")), goodClaims(), signer(t, ed)), edJKT, dpop.ErrMalformed},
		{"empty signature", strings.TrimRight(good, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), edJKT, dpop.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dpop.Verify(tt.proof, expect(tt.jkt))
			switch {
			case tt.want == nil && (err != nil || c.JKT != tt.jkt):
				t.Fatalf("Verify = %+v, %v; want accepted with jkt %s", c, err, tt.jkt)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
