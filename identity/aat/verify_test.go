package aat_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

type fixture struct {
	ed, ec   *signer.LocalFile
	edKey    jwk.Key
	ecKey    jwk.Key
	verifier *aat.Verifier
}

func newFixture(t *testing.T, mutate func(*aat.Config)) fixture {
	t.Helper()
	f := fixture{ed: localSigner(t, jwk.EdDSA), ec: localSigner(t, jwk.ES256)}
	f.edKey, f.ecKey = currentKey(t, f.ed), currentKey(t, f.ec)
	cfg := aat.Config{
		Issuers:  map[string]aat.KeySource{testIssuer: aat.StaticKeys{f.edKey, f.ecKey}},
		Audience: testAudience,
		Now:      fixedNow,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := aat.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.verifier = v
	return f
}

func mint(t *testing.T, s signer.Signer, edit func(*aat.Claims)) string {
	t.Helper()
	c := validClaims()
	if edit != nil {
		edit(&c)
	}
	tok, err := aat.Minter{Signer: s, Now: fixedNow}.Mint(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signRaw signs any header and payload with the trusted key kid.
func signRaw(t *testing.T, s signer.Signer, kid string, header map[string]any, payload any) string {
	t.Helper()
	return forge(t, header, payload, func(input []byte) []byte {
		sig, err := s.Sign(context.Background(), kid, input)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	})
}

func TestVerifyAccepts(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name  string
		token func(t *testing.T) string
	}{
		{"ed25519", func(t *testing.T) string { return mint(t, f.ed, nil) }},
		{"es256", func(t *testing.T) string { return mint(t, f.ec, nil) }},
		{"audience among several", func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Audience = jwt.Audience{"other", testAudience} })
		}},
		{"expired within skew", func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) {
				c.IssuedAt, c.NotBefore = jwt.NumericDate(t0.Add(-5*time.Minute).Unix()), 0
				c.Expiry = jwt.NumericDate(t0.Add(-10 * time.Second).Unix())
			})
		}},
		{"nbf within skew", func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.NotBefore = jwt.NumericDate(t0.Add(20 * time.Second).Unix()) })
		}},
		{"typ with application/ prefix", func(t *testing.T) string {
			return signRaw(t, f.ed, f.edKey.ID, map[string]any{"alg": "EdDSA", "kid": f.edKey.ID, "typ": "application/AAT+JWT"}, validClaims())
		}},
		{"no cnf when not required", func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Confirmation = nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.verifier.Verify(context.Background(), tt.token(t))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "alice@example.com" || c.Agent.ID != "coder" || c.Actor.Subject == "" {
				t.Fatalf("claims %+v", c)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	f := newFixture(t, func(c *aat.Config) { c.RequireConfirmation = true })
	edOnly := newFixture(t, func(c *aat.Config) { c.AllowedAlgs = []string{jwk.EdDSA} })
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	strangerEC, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := validClaims()
	hdr := func(alg, kid string) map[string]any { return map[string]any{"alg": alg, "kid": kid, "typ": aat.Type} }
	good := mint(t, f.ed, nil)

	tests := []struct {
		name     string
		verifier *aat.Verifier
		token    func(t *testing.T) string
		want     error
		also     error
	}{
		{"alg none", nil, func(t *testing.T) string {
			return forge(t, hdr("none", f.edKey.ID), claims, nil)
		}, aat.ErrSignature, nil},
		{"HS256 keyed with the ed25519 public key", nil, func(t *testing.T) string {
			return forge(t, hdr("HS256", f.edKey.ID), claims, hs256(f.edKey.Public.(ed25519.PublicKey)))
		}, aat.ErrSignature, nil},
		{"HS256 keyed with the kid", nil, func(t *testing.T) string {
			return forge(t, hdr("HS256", f.edKey.ID), claims, hs256([]byte(f.edKey.ID)))
		}, aat.ErrSignature, nil},
		{"RS256", nil, func(t *testing.T) string {
			return forge(t, hdr("RS256", f.edKey.ID), claims, nil)
		}, aat.ErrSignature, nil},
		{"ES256 not allowed", edOnly.verifier, func(t *testing.T) string {
			return mint(t, edOnly.ec, nil)
		}, aat.ErrSignature, nil},
		{"unknown kid", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", "no-such-kid"), claims, signWith(t, stranger))
		}, aat.ErrSignature, aat.ErrUnknownKey},
		{"kid missing", nil, func(t *testing.T) string {
			return forge(t, map[string]any{"alg": "EdDSA", "typ": aat.Type}, claims, signWith(t, stranger))
		}, aat.ErrMalformed, nil},
		{"kid names a file", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", "../../../../etc/passwd"), claims, signWith(t, stranger))
		}, aat.ErrMalformed, nil},
		{"kid absolute path", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", "/dev/null"), claims, signWith(t, stranger))
		}, aat.ErrMalformed, nil},
		{"kid names a url", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", "https://evil.example/jwks.json"), claims, signWith(t, stranger))
		}, aat.ErrMalformed, nil},
		{"kid sql-ish", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", "x' OR '1'='1"), claims, signWith(t, stranger))
		}, aat.ErrMalformed, nil},
		{"kid hidden file", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", ".ssh"), claims, signWith(t, stranger))
		}, aat.ErrMalformed, nil},
		{"another key's signature", nil, func(t *testing.T) string {
			return forge(t, hdr("EdDSA", f.edKey.ID), claims, signWith(t, stranger))
		}, aat.ErrSignature, nil},
		{"another P-256 key's signature", nil, func(t *testing.T) string {
			return forge(t, hdr("ES256", f.ecKey.ID), claims, signWith(t, strangerEC))
		}, aat.ErrSignature, nil},
		{"alg differs from the key's", nil, func(t *testing.T) string {
			return forge(t, hdr("ES256", f.edKey.ID), claims, signWith(t, strangerEC))
		}, aat.ErrSignature, nil},
		{"tampered capabilities", nil, func(t *testing.T) string {
			return tamper(t, good, func(c *aat.Claims) { c.Capabilities.Tools = append(c.Capabilities.Tools, "delete_all") })
		}, aat.ErrSignature, nil},
		{"tampered subject", nil, func(t *testing.T) string {
			return tamper(t, good, func(c *aat.Claims) { c.Subject = "root" })
		}, aat.ErrSignature, nil},
		{"signature stripped", nil, func(t *testing.T) string {
			return good[:strings.LastIndex(good, ".")+1]
		}, aat.ErrSignature, nil},
		{"expired", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) {
				c.IssuedAt, c.NotBefore = jwt.NumericDate(t0.Add(-10*time.Minute).Unix()), 0
				c.Expiry = jwt.NumericDate(t0.Add(-time.Minute).Unix())
			})
		}, aat.ErrExpired, nil},
		{"not yet valid", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.NotBefore = jwt.NumericDate(t0.Add(time.Minute).Unix()) })
		}, aat.ErrNotYetValid, nil},
		{"issued in the future", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) {
				c.IssuedAt = jwt.NumericDate(t0.Add(2 * time.Minute).Unix())
				c.NotBefore = 0
				c.Expiry = jwt.NumericDate(t0.Add(5 * time.Minute).Unix())
			})
		}, aat.ErrNotYetValid, nil},
		{"lifetime over an hour", nil, func(t *testing.T) string {
			c := validClaims()
			c.Expiry = jwt.NumericDate(t0.Add(2 * time.Hour).Unix())
			return signRaw(t, f.ed, f.edKey.ID, hdr("EdDSA", f.edKey.ID), c)
		}, aat.ErrMalformed, nil},
		{"wrong audience", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Audience = jwt.Audience{"https://mcp.test/other"} })
		}, aat.ErrAudience, nil},
		{"audience prefix", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Audience = jwt.Audience{testAudience + "/x"} })
		}, aat.ErrAudience, nil},
		{"untrusted issuer", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Issuer = "https://evil.test" })
		}, aat.ErrIssuerUntrusted, nil},
		{"issuer with trailing slash", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Issuer = testIssuer + "/" })
		}, aat.ErrIssuerUntrusted, nil},
		{"missing cnf when required", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Confirmation = nil })
		}, aat.ErrBinding, nil},
		{"empty cnf when required", nil, func(t *testing.T) string {
			return mint(t, f.ed, func(c *aat.Claims) { c.Confirmation = &aat.Confirmation{} })
		}, aat.ErrBinding, nil},
		{"typ JWT", nil, func(t *testing.T) string {
			return signRaw(t, f.ed, f.edKey.ID, map[string]any{"alg": "EdDSA", "kid": f.edKey.ID, "typ": "JWT"}, claims)
		}, aat.ErrMalformed, nil},
		{"typ dpop+jwt", nil, func(t *testing.T) string {
			return signRaw(t, f.ed, f.edKey.ID, map[string]any{"alg": "EdDSA", "kid": f.edKey.ID, "typ": "dpop+jwt"}, claims)
		}, aat.ErrMalformed, nil},
		{"typ missing", nil, func(t *testing.T) string {
			return signRaw(t, f.ed, f.edKey.ID, map[string]any{"alg": "EdDSA", "kid": f.edKey.ID}, claims)
		}, aat.ErrMalformed, nil},
		{"unsupported aat_version", nil, func(t *testing.T) string {
			c := validClaims()
			c.Version = "2"
			return signRaw(t, f.ed, f.edKey.ID, hdr("EdDSA", f.edKey.ID), c)
		}, aat.ErrMalformed, nil},
		{"claims not json", nil, func(t *testing.T) string {
			return signRaw(t, f.ed, f.edKey.ID, hdr("EdDSA", f.edKey.ID), "not json")
		}, aat.ErrMalformed, nil},
		{"claim of the wrong type", nil, func(t *testing.T) string {
			return signRaw(t, f.ed, f.edKey.ID, hdr("EdDSA", f.edKey.ID), `{"iss":"`+testIssuer+`","exp":"tomorrow"}`)
		}, aat.ErrMalformed, nil},
		{"garbage", nil, func(*testing.T) string { return "garbage" }, aat.ErrMalformed, nil},
		{"empty", nil, func(*testing.T) string { return "" }, aat.ErrMalformed, nil},
		{"two parts", nil, func(*testing.T) string { return "a.b" }, aat.ErrMalformed, nil},
		{"json serialization", nil, func(*testing.T) string { return `{"payload":"e30","signatures":[]}` }, aat.ErrMalformed, nil},
		{"oversized", nil, func(*testing.T) string { return strings.Repeat("a", aat.MaxTokenSize+1) }, aat.ErrMalformed, nil},
	}
	// Every required claim, removed in turn (no iss: no trusted issuer).
	for _, name := range []string{"iss", "sub", "act", "aud", "iat", "exp", "jti", "aat_version", "agent"} {
		want := aat.ErrMalformed
		if name == "iss" {
			want = aat.ErrIssuerUntrusted
		}
		tests = append(tests, struct {
			name     string
			verifier *aat.Verifier
			token    func(t *testing.T) string
			want     error
			also     error
		}{"missing " + name, nil, func(t *testing.T) string {
			m := map[string]any{}
			jsonRoundTrip(t, validClaims(), &m)
			delete(m, name)
			return signRaw(t, f.ed, f.edKey.ID, hdr("EdDSA", f.edKey.ID), m)
		}, want, nil})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.verifier
			if v == nil {
				v = f.verifier
			}
			c, err := v.Verify(context.Background(), tt.token(t))
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Fatalf("err = %v, want also %v", err, tt.also)
			}
			if aat.TokenError(err) == "" {
				t.Fatalf("no token_error for %v", err)
			}
		})
	}
}
