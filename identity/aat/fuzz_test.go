package aat_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, and
// whatever it accepts must be a complete token for this audience.
func FuzzVerify(f *testing.F) {
	s := localSigner(f, jwk.EdDSA)
	good, err := aat.Minter{Signer: s, Now: fixedNow}.Mint(context.Background(), validClaims())
	if err != nil {
		f.Fatal(err)
	}
	k := currentKey(f, s)
	for _, seed := range []string{
		good,
		good + "x",
		good[:len(good)-3],
		forge(f, map[string]any{"alg": "none", "typ": "aat+jwt", "kid": k.ID}, validClaims(), nil),
		forge(f, map[string]any{"alg": "HS256", "typ": "aat+jwt", "kid": k.ID}, validClaims(), hs256([]byte("k"))),
		forge(f, map[string]any{"alg": "EdDSA", "typ": "aat+jwt", "kid": "../x", "crit": []string{"exp"}}, "{}", nil),
		"", ".", "..", "...", "a.b.c", "eyJ9.e30.", `{"payload":"e30"}`,
	} {
		f.Add(seed)
	}
	v, err := aat.NewVerifier(aat.Config{
		Issuers: map[string]aat.KeySource{testIssuer: aat.StaticKeys{k}}, Audience: testAudience, Now: fixedNow,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			if aat.TokenError(err) == "" {
				t.Fatalf("refusal without a token_error: %v", err)
			}
			return
		}
		if c.Issuer != testIssuer || !slices.Contains(c.Audience, testAudience) || c.ID == "" {
			t.Fatalf("accepted incomplete claims %+v", c)
		}
	})
}
