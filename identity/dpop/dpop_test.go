package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/identity/jwk"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }

const (
	testURL   = "https://mcp.test/mcp"
	testToken = "header.payload.signature"
	testBody  = `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func publicJWK(t testing.TB, pub crypto.PublicKey) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forge builds a proof from any header and claims, signed by sign.
func forge(t testing.TB, header, claims map[string]any, sign func([]byte) []byte) string {
	t.Helper()
	input := b64(mustJSON(t, header)) + "." + b64(mustJSON(t, claims))
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

func signer(t testing.TB, priv crypto.Signer) func([]byte) []byte {
	return func(input []byte) []byte {
		sig, err := jwk.Sign(priv, input)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func goodClaims() map[string]any {
	return map[string]any{
		"jti": "jti-1", "htm": "POST", "htu": testURL, "iat": t0.Unix(),
		"ath": jwk.HashB64([]byte(testToken)), "aip_bh": jwk.HashB64([]byte(testBody)),
	}
}

func expect(jkt string) dpop.Expect {
	return dpop.Expect{
		Method: "POST", URL: testURL, AccessToken: testToken, Body: []byte(testBody),
		JKT: jkt, Now: at(0),
	}
}

func TestProofVerifies(t *testing.T) {
	for _, alg := range []string{"", jwk.EdDSA, jwk.ES256} {
		t.Run("alg "+alg, func(t *testing.T) {
			k, err := dpop.NewKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := dpop.Proof(k, dpop.Options{
				Method: "POST", URL: testURL + "?session=1#frag", AccessToken: testToken,
				Body: []byte(testBody), Now: at(0), JTI: "jti-fixed",
			})
			if err != nil {
				t.Fatal(err)
			}
			c, err := dpop.Verify(p, expect(k.Thumbprint()))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.JTI != "jti-fixed" || !c.IssuedAt.Equal(t0) || c.JKT != k.Thumbprint() ||
				c.ReplayTTL != dpop.DefaultMaxAge+2*dpop.DefaultSkew {
				t.Fatalf("claims %+v", c)
			}
			parts := strings.Split(p, ".")
			h, _ := base64.RawURLEncoding.DecodeString(parts[0])
			var hdr map[string]any
			_ = json.Unmarshal(h, &hdr)
			jwkHdr, _ := hdr["jwk"].(map[string]any)
			if hdr["typ"] != "dpop+jwt" || hdr["alg"] != k.Algorithm() || jwkHdr == nil || jwkHdr["d"] != nil {
				t.Fatalf("header %v", hdr)
			}
		})
	}
	if _, err := dpop.NewKey("HS256"); err == nil {
		t.Fatal("HS256 key made")
	}
}

func TestVerifyAcceptsEquivalentURLs(t *testing.T) {
	k, _ := dpop.NewKey("")
	tests := []struct{ proofURL, requestURL string }{
		{"https://mcp.test/mcp", "https://MCP.test:443/mcp?x=1"},
		{"HTTPS://mcp.test/mcp#f", "https://mcp.test/mcp"},
		{"http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"},
		{"https://mcp.test", "https://mcp.test/"},
		{"http://[::1]:8080/mcp", "http://[::1]:8080/mcp?q"},
	}
	for _, tt := range tests {
		t.Run(tt.proofURL, func(t *testing.T) {
			p, err := dpop.Proof(k, dpop.Options{Method: "GET", URL: tt.proofURL, Now: at(0)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dpop.Verify(p, dpop.Expect{Method: "GET", URL: tt.requestURL, JKT: k.Thumbprint(), Now: at(0)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pub := priv.Public()
	jkt, _ := jwk.Thumbprint(pub)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k, err := dpop.NewKeyFrom(priv)
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(alg string, key json.RawMessage) map[string]any {
		return map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": key}
	}
	good := hdr("EdDSA", publicJWK(t, pub))
	with := func(edit func(map[string]any)) map[string]any {
		c := goodClaims()
		edit(c)
		return c
	}
	proof := func(o dpop.Options) string {
		p, err := dpop.Proof(k, o)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := dpop.Options{Method: "POST", URL: testURL, AccessToken: testToken, Body: []byte(testBody), Now: at(0)}
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: priv})

	tests := []struct {
		name   string
		proof  string
		expect func(e *dpop.Expect)
		want   error
	}{
		{"alg none", forge(t, hdr("none", publicJWK(t, pub)), goodClaims(), nil), nil, dpop.ErrSignature},
		{"HS256 keyed with the public key", forge(t, hdr("HS256", publicJWK(t, pub)), goodClaims(), func(in []byte) []byte {
			m := hmac.New(sha256.New, pub.(ed25519.PublicKey))
			m.Write(in)
			return m.Sum(nil)
		}), nil, dpop.ErrSignature},
		{"typ JWT", forge(t, map[string]any{"typ": "JWT", "alg": "EdDSA", "jwk": publicJWK(t, pub)}, goodClaims(), signer(t, priv)), nil, dpop.ErrMalformed},
		{"typ aat+jwt", forge(t, map[string]any{"typ": "aat+jwt", "alg": "EdDSA", "jwk": publicJWK(t, pub)}, goodClaims(), signer(t, priv)), nil, dpop.ErrMalformed},
		{"no jwk", forge(t, map[string]any{"typ": "dpop+jwt", "alg": "EdDSA"}, goodClaims(), signer(t, priv)), nil, dpop.ErrMalformed},
		{"private jwk", forge(t, hdr("EdDSA", privJWK), goodClaims(), signer(t, priv)), nil, dpop.ErrMalformed},
		{"another key than cnf.jkt", forge(t, hdr("EdDSA", publicJWK(t, other.Public())), goodClaims(), signer(t, other)), nil, dpop.ErrKey},
		{"no expected jkt", proof(full), func(e *dpop.Expect) { e.JKT = "" }, dpop.ErrKey},
		{"jwk of one key, signature of another", forge(t, good, goodClaims(), signer(t, other)), nil, dpop.ErrSignature},
		{"p256 jwk with alg EdDSA", forge(t, hdr("EdDSA", publicJWK(t, &ec.PublicKey)), goodClaims(), signer(t, ec)), func(e *dpop.Expect) {
			e.JKT, _ = jwk.Thumbprint(&ec.PublicKey)
		}, dpop.ErrSignature},
		{"tampered claims", func() string {
			p := strings.Split(proof(full), ".")
			return p[0] + "." + b64(mustJSON(t, with(func(c map[string]any) { c["htm"] = "GET" }))) + "." + p[2]
		}(), func(e *dpop.Expect) { e.Method = "GET" }, dpop.ErrSignature},
		{"wrong method", proof(full), func(e *dpop.Expect) { e.Method = "GET" }, dpop.ErrMethod},
		{"method case", proof(full), func(e *dpop.Expect) { e.Method = "post" }, dpop.ErrMethod},
		{"wrong path", proof(full), func(e *dpop.Expect) { e.URL = "https://mcp.test/other" }, dpop.ErrURL},
		{"wrong host", proof(full), func(e *dpop.Expect) { e.URL = "https://evil.test/mcp" }, dpop.ErrURL},
		{"wrong scheme", proof(full), func(e *dpop.Expect) { e.URL = "http://mcp.test/mcp" }, dpop.ErrURL},
		{"wrong port", proof(full), func(e *dpop.Expect) { e.URL = "https://mcp.test:8443/mcp" }, dpop.ErrURL},
		{"htu not a url", forge(t, good, with(func(c map[string]any) { c["htu"] = "/mcp" }), signer(t, priv)), nil, dpop.ErrURL},
		{"too old", proof(full), func(e *dpop.Expect) { e.Now = at(dpop.DefaultMaxAge + dpop.DefaultSkew + time.Second) }, dpop.ErrIssuedAt},
		{"from the future", proof(full), func(e *dpop.Expect) { e.Now = at(-dpop.DefaultSkew - time.Second) }, dpop.ErrIssuedAt},
		{"short max age", proof(full), func(e *dpop.Expect) { e.MaxAge, e.Skew, e.Now = time.Second, time.Second, at(3*time.Second) }, dpop.ErrIssuedAt},
		{"no ath", proof(dpop.Options{Method: "POST", URL: testURL, Body: []byte(testBody), Now: at(0)}), nil, dpop.ErrTokenHash},
		{"ath of another token", proof(full), func(e *dpop.Expect) { e.AccessToken = "other.token.x" }, dpop.ErrTokenHash},
		{"no body hash", proof(dpop.Options{Method: "POST", URL: testURL, AccessToken: testToken, Now: at(0)}), nil, dpop.ErrBodyHash},
		{"body changed", proof(full), func(e *dpop.Expect) { e.Body = []byte(`{"jsonrpc":"2.0","id":2}`) }, dpop.ErrBodyHash},
		{"empty body expected", proof(full), func(e *dpop.Expect) { e.Body = []byte{} }, dpop.ErrBodyHash},
		{"nonce mismatch", proof(dpop.Options{Method: "POST", URL: testURL, AccessToken: testToken, Body: []byte(testBody), Now: at(0), Nonce: "n1"}), func(e *dpop.Expect) { e.Nonce = "n2" }, dpop.ErrNonce},
		{"nonce missing", proof(full), func(e *dpop.Expect) { e.Nonce = "n2" }, dpop.ErrNonce},
		{"no jti", forge(t, good, with(func(c map[string]any) { delete(c, "jti") }), signer(t, priv)), nil, dpop.ErrMalformed},
		{"no htm", forge(t, good, with(func(c map[string]any) { delete(c, "htm") }), signer(t, priv)), nil, dpop.ErrMalformed},
		{"no htu", forge(t, good, with(func(c map[string]any) { delete(c, "htu") }), signer(t, priv)), nil, dpop.ErrMalformed},
		{"no iat", forge(t, good, with(func(c map[string]any) { delete(c, "iat") }), signer(t, priv)), nil, dpop.ErrMalformed},
		{"iat a string", forge(t, good, with(func(c map[string]any) { c["iat"] = "now" }), signer(t, priv)), nil, dpop.ErrMalformed},
		{"huge jti", forge(t, good, with(func(c map[string]any) { c["jti"] = strings.Repeat("j", 300) }), signer(t, priv)), nil, dpop.ErrMalformed},
		{"garbage", "garbage", nil, dpop.ErrMalformed},
		{"empty", "", nil, dpop.ErrMalformed},
		{"oversized", strings.Repeat("a", 9000), nil, dpop.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := expect(jkt)
			if tt.expect != nil {
				tt.expect(&e)
			}
			c, err := dpop.Verify(tt.proof, e)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyConfigErrors(t *testing.T) {
	k, _ := dpop.NewKey("")
	p, _ := dpop.Proof(k, dpop.Options{Method: "GET", URL: testURL, Now: at(0)})
	tests := []struct {
		name string
		e    dpop.Expect
	}{
		{"max age too large", dpop.Expect{Method: "GET", URL: testURL, JKT: k.Thumbprint(), Now: at(0), MaxAge: time.Hour}},
		{"negative skew", dpop.Expect{Method: "GET", URL: testURL, JKT: k.Thumbprint(), Now: at(0), Skew: -time.Second}},
		{"bad expected url", dpop.Expect{Method: "GET", URL: "mcp.test/mcp", JKT: k.Thumbprint(), Now: at(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dpop.Verify(p, tt.e); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestProofRefuses(t *testing.T) {
	k, _ := dpop.NewKey("")
	tests := []struct {
		name string
		k    *dpop.Key
		o    dpop.Options
	}{
		{"no key", nil, dpop.Options{Method: "GET", URL: testURL}},
		{"no method", k, dpop.Options{URL: testURL}},
		{"relative url", k, dpop.Options{Method: "GET", URL: "/mcp"}},
		{"ftp url", k, dpop.Options{Method: "GET", URL: "ftp://mcp.test/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := dpop.Proof(tt.k, tt.o); err == nil {
				t.Fatalf("made %s", p)
			}
		})
	}
	if _, err := dpop.NewKeyFrom(mustRSA(t)); err == nil {
		t.Fatal("rsa key accepted")
	}
}
