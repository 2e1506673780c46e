package security

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/issuer/signer"
)

// forger is the attacker's signer: an Ed25519 key published under any kid
// it likes (the issuer's, a path, a URL).
type forger struct {
	kid  string
	priv ed25519.PrivateKey
}

var _ signer.Signer = (*forger)(nil)

func newForger(t *testing.T, kid string) *forger {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &forger{kid: kid, priv: priv}
}

func (f *forger) Current(context.Context) (signer.Key, error) {
	return signer.Key{ID: f.kid, Algorithm: signer.EdDSA, Public: f.priv.Public()}, nil
}

func (f *forger) Sign(_ context.Context, _ string, in []byte) ([]byte, error) {
	return ed25519.Sign(f.priv, in), nil
}

func (f *forger) PublicKeys(ctx context.Context) ([]signer.Key, error) {
	k, err := f.Current(ctx)
	return []signer.Key{k}, err
}

// handmade builds a compact JWS from a header and claims, signed by sign
// (nil: an empty signature).
func handmade(t *testing.T, header map[string]any, c aat.Claims, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

func hs256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

// TestTokenAttacks sends forged, altered and misdirected AATs, each with a
// valid DPoP proof for the request, so that only the token is wrong.
func TestTokenAttacks(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	issuerKey, err := st.issuer.Signer.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := issuerKey.Public.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("issuer key is %T, want Ed25519", issuerKey.Public)
	}
	jwkJSON, err := json.Marshal(jose.JSONWebKey{Key: pub, KeyID: issuerKey.ID, Algorithm: issuerKey.Algorithm, Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	k := newKey(t)
	now := time.Now()

	// signed sends a token with a proof by k over an initialize.
	signed := func(token string) func(t *testing.T) request {
		return func(t *testing.T) request { return st.prove(t, k, request{body: initialize, token: token}) }
	}
	with := func(mod func(c *aat.Claims)) aat.Claims {
		c := st.claims(k)
		mod(&c)
		return c
	}
	invalid := func(name, tokenError string, token func(t *testing.T) string) attack {
		return attack{name: name, status: http.StatusUnauthorized, code: int(codes.TokenInvalid), tokenError: tokenError, audit: 1,
			req: func(t *testing.T) request { return signed(token(t))(t) }}
	}
	hdr := func(alg, kid string) map[string]any { return map[string]any{"alg": alg, "kid": kid, "typ": aat.Type} }

	t.Run("control: issuer token through the agent SDK", func(t *testing.T) {
		key := st.registerAgent(t, agentID, "echo")
		tr, err := agent.New(agent.Config{IssuerURL: st.issuerURL, Audience: audience, Key: key, LocalUser: localUser})
		if err != nil {
			t.Fatal(err)
		}
		up := st.upstream.Load()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.sidecar+"/mcp", strings.NewReader(initialize))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := tr.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || st.upstream.Load() == up {
			t.Fatalf("initialize with an issued token: %d, upstream reached: %v", resp.StatusCode, st.upstream.Load() != up)
		}
	})
	t.Run("control: minted token", func(t *testing.T) {
		st.expectAllowed(t, signed(mint(t, st.issuer.Signer, st.claims(k)))(t))
	})

	st.run(t, []attack{
		invalid("alg none", codes.TokenErrorSignature, func(t *testing.T) string {
			return handmade(t, hdr("none", issuerKey.ID), with(func(c *aat.Claims) { fill(c, now) }), nil)
		}),
		invalid("HS256 keyed with the issuer's raw public key", codes.TokenErrorSignature, func(t *testing.T) string {
			return handmade(t, hdr("HS256", issuerKey.ID), with(func(c *aat.Claims) { fill(c, now) }), hs256(pub))
		}),
		invalid("HS256 keyed with the issuer's JWK", codes.TokenErrorSignature, func(t *testing.T) string {
			return handmade(t, hdr("HS256", issuerKey.ID), with(func(c *aat.Claims) { fill(c, now) }), hs256(jwkJSON))
		}),
		invalid("unknown kid", codes.TokenErrorSignature, func(t *testing.T) string {
			return mint(t, newForger(t, "attacker-key-1"), st.claims(k))
		}),
		invalid("kid is a file path", codes.TokenErrorMalformed, func(t *testing.T) string {
			return mint(t, newForger(t, "../../../../etc/passwd"), st.claims(k))
		}),
		invalid("kid is an absolute path", codes.TokenErrorMalformed, func(t *testing.T) string {
			return mint(t, newForger(t, "/dev/null"), st.claims(k))
		}),
		invalid("kid is a URL", codes.TokenErrorMalformed, func(t *testing.T) string {
			return mint(t, newForger(t, "https://attacker.example/jwks.json"), st.claims(k))
		}),
		invalid("kid is a file URL", codes.TokenErrorMalformed, func(t *testing.T) string {
			return mint(t, newForger(t, "file:///etc/passwd"), st.claims(k))
		}),
		invalid("another key under the issuer's kid", codes.TokenErrorSignature, func(t *testing.T) string {
			return mint(t, newForger(t, issuerKey.ID), st.claims(k))
		}),
		invalid("tampered claims, signature kept", codes.TokenErrorSignature, func(t *testing.T) string {
			tok := mint(t, st.issuer.Signer, with(func(c *aat.Claims) { c.Capabilities.Tools = []string{"echo"} }))
			parts := strings.Split(tok, ".")
			p, err := base64.RawURLEncoding.DecodeString(parts[1])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(p, &m); err != nil {
				t.Fatal(err)
			}
			m["capabilities"] = map[string]any{"tools": []string{"echo", "get-sum", "read_file", "*"}}
			m["agent"] = map[string]any{"id": "admin"}
			p, err = json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
		}),
		invalid("expired", codes.TokenErrorExpired, func(t *testing.T) string {
			return mint(t, st.issuer.Signer, with(func(c *aat.Claims) {
				c.IssuedAt, c.Expiry = *jwt.NewNumericDate(now.Add(-2 * time.Hour)), *jwt.NewNumericDate(now.Add(-time.Hour))
			}))
		}),
		invalid("not yet valid", codes.TokenErrorNotYetValid, func(t *testing.T) string {
			return mint(t, st.issuer.Signer, with(func(c *aat.Claims) {
				c.IssuedAt = *jwt.NewNumericDate(now)
				c.NotBefore, c.Expiry = *jwt.NewNumericDate(now.Add(10 * time.Minute)), *jwt.NewNumericDate(now.Add(20 * time.Minute))
			}))
		}),
		invalid("issued in the future", codes.TokenErrorNotYetValid, func(t *testing.T) string {
			return mint(t, st.issuer.Signer, with(func(c *aat.Claims) {
				c.IssuedAt, c.Expiry = *jwt.NewNumericDate(now.Add(10 * time.Minute)), *jwt.NewNumericDate(now.Add(20 * time.Minute))
			}))
		}),
		{name: "wrong aud", status: http.StatusUnauthorized, code: int(codes.AudienceMismatch), tokenError: codes.TokenErrorAudience, audit: 1,
			req: func(t *testing.T) request {
				return signed(mint(t, st.issuer.Signer, with(func(c *aat.Claims) { c.Audience = []string{"https://other.mcp.test"} })))(t)
			}},
		{name: "wrong iss, signed by the issuer's key", status: http.StatusUnauthorized, code: int(codes.IssuerUntrusted), tokenError: codes.TokenErrorIssuer, audit: 1,
			req: func(t *testing.T) request {
				return signed(mint(t, st.issuer.Signer, with(func(c *aat.Claims) { c.Issuer = "https://attacker.example" })))(t)
			}},
		{name: "iss of the issuer with a trailing slash", status: http.StatusUnauthorized, code: int(codes.IssuerUntrusted), tokenError: codes.TokenErrorIssuer, audit: 1,
			req: func(t *testing.T) request {
				return signed(mint(t, st.issuer.Signer, with(func(c *aat.Claims) { c.Issuer = st.issuerURL + "/" })))(t)
			}},
		invalid("missing cnf", codes.TokenErrorBinding, func(t *testing.T) string {
			return mint(t, st.issuer.Signer, with(func(c *aat.Claims) { c.Confirmation = nil }))
		}),
		invalid("cnf with an empty jkt", codes.TokenErrorBinding, func(t *testing.T) string {
			return mint(t, st.issuer.Signer, with(func(c *aat.Claims) { c.Confirmation = &aat.Confirmation{} }))
		}),
		{name: "no token", status: http.StatusUnauthorized, code: int(codes.TokenRequired), audit: 1,
			req: func(*testing.T) request { return request{body: initialize} }},
	})
	st.verifyAudit(t)
}

// fill sets the times Mint would, for a token built by hand.
func fill(c *aat.Claims, now time.Time) {
	c.IssuedAt, c.NotBefore, c.Expiry = *jwt.NewNumericDate(now), *jwt.NewNumericDate(now), *jwt.NewNumericDate(now.Add(5 * time.Minute))
	c.ID, c.Version = "forged-jti", aat.Version
}
