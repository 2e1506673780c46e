package signer_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

var benchClaims = map[string]any{
	"iss": "https://issuer.example", "sub": "alice", "aud": "mcp://files",
	"iat": 1767268800, "exp": 1767269100, "jti": "0123456789abcdef",
}

func benchSign(b *testing.B, s signer.Signer) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jwk.SignJWS(ctx, s, "aat+jwt", benchClaims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignLocal(b *testing.B) {
	for _, alg := range []string{signer.EdDSA, signer.ES256} {
		b.Run(alg, func(b *testing.B) {
			l, err := signer.OpenLocalFile(signer.LocalConfig{Path: filepath.Join(b.TempDir(), "k.pem"), Algorithm: alg})
			if err != nil {
				b.Fatal(err)
			}
			benchSign(b, l)
		})
	}
}

func BenchmarkSignTransit(b *testing.B) {
	v := vaultEnv(b)
	for _, keyType := range []string{signer.TransitEd25519, signer.TransitECDSAP256} {
		b.Run(keyType, func(b *testing.B) {
			s := newTransit(b, signer.TransitConfig{
				Address: v.Addr, Token: v.Token, Key: keyName("bench"), KeyType: keyType, Create: true,
			})
			benchSign(b, s)
		})
	}
}
