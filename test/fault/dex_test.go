package fault

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// Dex down. The enforcer never calls the IdP: an AAT issued from a Dex ID
// token keeps working until it expires. New logins fail. The issuer
// verifies ID tokens with go-oidc's remote key set, which keeps the keys it
// fetched: an ID token signed by a key it already holds is still
// exchanged; one signed by a key it does not hold makes it fetch Dex's
// keys, which fails, and the token is refused (400 invalid_grant); an
// issuer that never reached Dex answers 503 temporarily_unavailable.
func TestDexDown(t *testing.T) {
	dex := env.NewDex(t)
	mcpURL := env.MCPServerHTTP(t)
	iss := stacktest.StartIssuer(t, stacktest.IssuerOptions{LocalUser: localUser, Extra: dexIDP(dex.Issuer, dex.ClientID) + "token: {default_ttl: 8s}\n"})
	issuerURL := iss.URL
	key := registerEngineer(t, iss.Issuer, "reader")
	enf := startSidecar(t, stacktest.SidecarOptions{Issuer: issuerURL, Upstream: mcpURL, Extra: "skew: 1s\n"})
	bob := dex.IDToken(t, env.Bob)

	got := exchange(t, issuerURL, bob, key, nil)
	if got.Status != http.StatusOK {
		t.Fatalf("exchange with dex up: %d %s %s", got.Status, got.Error, got.ErrorDescription)
	}
	claims, err := verifyAAT(issuerURL, got.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	session := openSession(t, &http.Client{Transport: tokenTransport{token: got.AccessToken, key: key}}, enf+"/mcp")
	ctx := context.Background()
	if status, resp, err := session.echo(ctx, "dex up"); err != nil || status != http.StatusOK || resp.Error != nil {
		t.Fatalf("call with dex up: %d %+v %v", status, resp.Error, err)
	}

	dex.Stop(t)

	t.Run("the AAT keeps working", func(t *testing.T) {
		if status, resp, err := session.echo(ctx, "dex down"); err != nil || status != http.StatusOK || resp.Error != nil {
			t.Fatalf("call with dex down: %d %+v %v", status, resp.Error, err)
		}
	})

	t.Run("new logins fail", func(t *testing.T) {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := dex.Login(lctx, env.Bob)
		if err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("login with dex down: %v, want a connection refused error", err)
		}
		t.Logf("login with dex down: %v", err)
	})

	t.Run("an ID token signed by a known key is still exchanged", func(t *testing.T) {
		got := exchange(t, issuerURL, bob, key, nil)
		if got.Status != http.StatusOK {
			t.Fatalf("exchange of the held ID token with dex down: %d %s %s", got.Status, got.Error, got.ErrorDescription)
		}
	})

	t.Run("an ID token signed by an unknown key is refused", func(t *testing.T) {
		got := exchange(t, issuerURL, unknownKeyIDToken(t, dex.Issuer, dex.ClientID), key, nil)
		if got.Status != http.StatusBadRequest || got.Error != oauth.InvalidGrant || got.AccessToken != "" {
			t.Fatalf("exchange of a token by an unknown key with dex down: %d %q %q; want 400 invalid_grant",
				got.Status, got.Error, got.ErrorDescription)
		}
	})

	t.Run("an issuer that never reached dex answers 503", func(t *testing.T) {
		fresh := stacktest.StartIssuer(t, stacktest.IssuerOptions{LocalUser: localUser, Extra: dexIDP(dex.Issuer, dex.ClientID)})
		k := registerEngineer(t, fresh.Issuer, "reader")
		got := exchange(t, fresh.URL, bob, k, nil)
		if got.Status != http.StatusServiceUnavailable || got.Error != oauth.TemporarilyUnavailable || got.AccessToken != "" {
			t.Fatalf("exchange at an issuer that cannot discover dex: %d %q %q; want 503 %s",
				got.Status, got.Error, got.ErrorDescription, oauth.TemporarilyUnavailable)
		}
	})

	t.Run("until it expires", func(t *testing.T) {
		time.Sleep(time.Until(claims.Expiry.Time().Add(1500 * time.Millisecond))) // exp + the sidecar's 1s skew
		status, resp, err := session.echo(ctx, "expired")
		if err != nil || status != http.StatusUnauthorized || resp.code() != -32009 || resp.Error.Data.TokenError != "token_expired" {
			t.Fatalf("call with the expired AAT: %d %+v %v; want 401 -32009 token_expired", status, resp.Error, err)
		}
	})
}

// unknownKeyIDToken is a well-formed ID token for Bob from issuer, signed
// by a key Dex never published: a forgery, or a key Dex rotated to while
// the issuer cannot reach it.
func unknownKeyIDToken(t *testing.T, issuer, clientID string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: "not-published-by-dex"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: issuer, Subject: env.Bob.UserID, Audience: jwt.Audience{clientID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))}).
		Claims(map[string]any{"email": env.Bob.Username, "groups": env.Bob.Groups}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
