package aat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
)

func decodePart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	raw, err := b64Decode(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]any) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// The claim names are a wire contract: this test fails if one changes.
func TestMintWireNames(t *testing.T) {
	s := localSigner(t, jwk.EdDSA)
	c := validClaims()
	c.Confirmation.X5TS256 = "x5t"
	tok, err := aat.Minter{Signer: s, Now: fixedNow}.Mint(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	h := decodePart(t, tok, 0)
	if h["typ"] != "aat+jwt" || h["alg"] != "EdDSA" || h["kid"] != currentKey(t, s).ID {
		t.Fatalf("header %v", h)
	}
	p := decodePart(t, tok, 1)
	tests := []struct {
		name string
		got  map[string]any
		want string
	}{
		{"top level", p, "aat_version,act,agent,aud,capabilities,cnf,exp,iat,iss,jti,nbf,nonce,policy_hash,session_id,sub,user_binding"},
		{"act", p["act"].(map[string]any), "sub"},
		{"agent", p["agent"].(map[string]any), "id,spiffe_id"},
		{"user_binding", p["user_binding"].(map[string]any), "auth_method,auth_time,groups,issuer,user_id"},
		{"capabilities", p["capabilities"].(map[string]any), "tools"},
		{"cnf", p["cnf"].(map[string]any), "jkt,x5t#S256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(tt.got); got != tt.want {
				t.Fatalf("names %s, want %s", got, tt.want)
			}
		})
	}
	if p["aud"] != testAudience {
		t.Fatalf("single aud encoded as %v, want a string", p["aud"])
	}
}

func TestMintDefaults(t *testing.T) {
	s := localSigner(t, jwk.EdDSA)
	c := validClaims()
	c.IssuedAt, c.NotBefore, c.Expiry, c.ID, c.Version = 0, 0, 0, "", ""
	m := aat.Minter{Signer: s, Now: fixedNow, Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 16))}
	tok, err := m.Mint(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{
		Issuers: map[string]aat.KeySource{testIssuer: aat.SignerKeys{Signer: s}}, Audience: testAudience, Now: fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.IssuedAt != jwt.NumericDate(t0.Unix()) || got.NotBefore != got.IssuedAt ||
		got.Expiry.Time().Sub(got.IssuedAt.Time()) != aat.DefaultLifetime {
		t.Fatalf("times iat=%d nbf=%d exp=%d", got.IssuedAt, got.NotBefore, got.Expiry)
	}
	if got.ID != "BwcHBwcHBwcHBwcHBwcHBw" || got.Version != aat.Version {
		t.Fatalf("jti %q version %q", got.ID, got.Version)
	}
}

func TestMintRefuses(t *testing.T) {
	s := localSigner(t, jwk.EdDSA)
	at := func(d time.Duration) jwt.NumericDate { return jwt.NumericDate(t0.Add(d).Unix()) }
	tests := []struct {
		name    string
		minter  aat.Minter
		edit    func(*aat.Claims)
		wantErr error
	}{
		{"over an hour", aat.Minter{}, func(c *aat.Claims) { c.Expiry = at(time.Hour + time.Second) }, aat.ErrLifetime},
		{"cap above an hour is an hour", aat.Minter{MaxLifetime: 24 * time.Hour}, func(c *aat.Claims) { c.Expiry = at(2 * time.Hour) }, aat.ErrLifetime},
		{"over the configured cap", aat.Minter{MaxLifetime: 10 * time.Minute}, func(c *aat.Claims) { c.Expiry = at(11 * time.Minute) }, aat.ErrLifetime},
		{"exp before iat", aat.Minter{}, func(c *aat.Claims) { c.Expiry = at(-time.Minute) }, nil},
		{"no issuer", aat.Minter{}, func(c *aat.Claims) { c.Issuer = "" }, nil},
		{"no subject", aat.Minter{}, func(c *aat.Claims) { c.Subject = "" }, nil},
		{"no actor", aat.Minter{}, func(c *aat.Claims) { c.Actor.Subject = "" }, nil},
		{"no audience", aat.Minter{}, func(c *aat.Claims) { c.Audience = nil }, nil},
		{"empty audience", aat.Minter{}, func(c *aat.Claims) { c.Audience = jwt.Audience{""} }, nil},
		{"no agent", aat.Minter{}, func(c *aat.Claims) { c.Agent.ID = "" }, nil},
		{"rand fails", aat.Minter{Rand: bytes.NewReader(nil)}, func(c *aat.Claims) { c.ID = "" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.minter
			m.Signer, m.Now = s, fixedNow
			c := validClaims()
			tt.edit(&c)
			tok, err := m.Mint(context.Background(), c)
			if err == nil {
				t.Fatalf("minted %s", tok)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := aat.Mint(context.Background(), nil, validClaims()); err == nil {
		t.Fatal("minted without a signer")
	}
}

func TestMintPackageFunc(t *testing.T) {
	s := localSigner(t, jwk.ES256)
	c := validClaims()
	c.IssuedAt, c.NotBefore, c.Expiry = 0, 0, 0
	tok, err := aat.Mint(context.Background(), s, c)
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{testIssuer: aat.SignerKeys{Signer: s}}, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}
