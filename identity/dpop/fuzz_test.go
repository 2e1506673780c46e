package dpop_test

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/dpop"
)

func mustRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzVerifyProof feeds arbitrary proofs to Verify: it never panics, every
// refusal is an ErrInvalidProof, and an accepted proof has a jti.
func FuzzVerifyProof(f *testing.F) {
	k, err := dpop.NewKey("")
	if err != nil {
		f.Fatal(err)
	}
	good, err := dpop.Proof(k, dpop.Options{Method: "POST", URL: testURL, AccessToken: testToken, Body: []byte(testBody), Now: at(0)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good + "x", good[:len(good)/2], "", "...", "a.b.c", `{"payload":""}`} {
		f.Add(s)
	}
	e := expect(k.Thumbprint())
	f.Fuzz(func(t *testing.T, proof string) {
		c, err := dpop.Verify(proof, e)
		if err != nil {
			if !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("refusal not an ErrInvalidProof: %v", err)
			}
			return
		}
		if c.JTI == "" || c.JKT != k.Thumbprint() || c.IssuedAt.Sub(t0).Abs() > time.Minute {
			t.Fatalf("accepted %+v", c)
		}
	})
}

func BenchmarkProofCreateVerify(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			k, err := dpop.NewKey(alg)
			if err != nil {
				b.Fatal(err)
			}
			o := dpop.Options{Method: "POST", URL: testURL, AccessToken: testToken, Body: []byte(testBody), Now: at(0)}
			e := expect(k.Thumbprint())
			b.ReportAllocs()
			for b.Loop() {
				p, err := dpop.Proof(k, o)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := dpop.Verify(p, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify is the enforcer's side alone: one prepared proof checked
// again and again (the replay check is the caller's).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			k, err := dpop.NewKey(alg)
			if err != nil {
				b.Fatal(err)
			}
			p, err := dpop.Proof(k, dpop.Options{Method: "POST", URL: testURL, AccessToken: testToken, Body: []byte(testBody), Now: at(0)})
			if err != nil {
				b.Fatal(err)
			}
			e := expect(k.Thumbprint())
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dpop.Verify(p, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
