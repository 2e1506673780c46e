package issuer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
)

// A native DPoP agent gets an AAT for Bob (a Dex user) end to end through
// the HTTP API; Alice (aip-admins) registers it.
func TestDexNativeAgentEndToEnd(t *testing.T) {
	dex := env.Dex(t)
	r := startIssuer(t, dexIDP(dex.Issuer, dex.ClientID), issuer.Options{})
	aliceToken, bobToken := dex.IDToken(t, env.Alice), dex.IDToken(t, env.Bob)

	key, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	// Bob is not an admin: he cannot register agents.
	if got := call(t, http.MethodGet, r.URL+"/v1/agents", http.Header{"Authorization": {"Bearer " + bobToken}}, ""); got.Status != http.StatusForbidden {
		t.Fatalf("bob lists agents: %d %s", got.Status, got.Body)
	}
	if got := call(t, http.MethodGet, r.URL+"/v1/agents", nil, ""); got.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous lists agents: %d %s", got.Status, got.Body)
	}
	r.registerAgent(t, aliceToken, map[string]any{
		"agent_id": "coder", "public_key": publicJWK(key), "capabilities": []string{"read_file", "search"},
		"allowed_groups": []string{"engineering"},
	})

	got := r.exchange(t, bobToken, key, "")
	if got.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", got.Status, got.Body)
	}
	if got.field(t, "token_type") != "DPoP" || got.field(t, "scope") != "read_file search" {
		t.Fatalf("response: %s", got.Body)
	}
	c := r.verifyAAT(t, got.field(t, "access_token"))
	if c.Subject == "" || c.UserBinding.Groups[0] != "engineering" || c.UserBinding.Issuer != dex.Issuer || c.Confirmation == nil || c.Confirmation.JKT != key.Thumbprint() {
		t.Fatalf("claims: %+v", c)
	}

	t.Run("refusals with real Dex tokens", func(t *testing.T) {
		otherAud := startIssuer(t, dexIDP(dex.Issuer, "another-client"), issuer.Options{})
		otherIDP := startIssuer(t, dexIDP("https://sso.example.org", dex.ClientID), issuer.Options{})
		in48h := func() time.Time { return time.Now().Add(48 * time.Hour) }
		later := startIssuer(t, dexIDP(dex.Issuer, dex.ClientID), issuer.Options{Now: in48h})
		later.now = in48h // the agent's proofs share the issuer's clock
		for _, tt := range []struct {
			name string
			r    *running
		}{{"wrong audience", otherAud}, {"unknown idp", otherIDP}, {"expired", later}} {
			t.Run(tt.name, func(t *testing.T) {
				// Registered through the store: Alice's admin token is refused
				// by these issuers for the same reason.
				if _, err := tt.r.Issuer.Registry().Create(context.Background(), registry.Agent{ID: "coder",
					PublicKey: &jose.JSONWebKey{Key: key.Public()}, Capabilities: []string{"read_file"}, AllowedGroups: []string{"engineering"}}); err != nil {
					t.Fatal(err)
				}
				got := tt.r.exchange(t, bobToken, key, "")
				if got.Status != http.StatusBadRequest || got.field(t, "error") != oauth.InvalidGrant || got.field(t, "error_description") != oauth.AuthFailed {
					t.Fatalf("got %d %s", got.Status, got.Body)
				}
			})
		}
	})

	t.Run("revoked user", func(t *testing.T) {
		body := `{"kind":"user","subject":"` + c.Subject + `","reason":"left the company"}`
		rev := call(t, http.MethodPost, r.URL+"/v1/revocations", http.Header{"Authorization": {"Bearer " + aliceToken}, "Content-Type": {"application/json"}}, body)
		if rev.Status != http.StatusCreated {
			t.Fatalf("revoke: %d %s", rev.Status, rev.Body)
		}
		if got := r.exchange(t, bobToken, key, ""); got.Status != http.StatusBadRequest || got.field(t, "error") != oauth.InvalidGrant {
			t.Fatalf("revoked user got %d %s", got.Status, got.Body)
		}
		list := call(t, http.MethodGet, r.URL+"/v1/revocations", nil, "")
		etag := list.Header.Get("ETag")
		if list.Status != http.StatusOK || etag == "" || !strings.Contains(string(list.Body), `"list"`) {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}
		if again := call(t, http.MethodGet, r.URL+"/v1/revocations", http.Header{"If-None-Match": {etag}}, ""); again.Status != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", again.Status)
		}
	})

	t.Run("signed AID verifies against the JWKS", func(t *testing.T) {
		aid := call(t, http.MethodGet, r.URL+"/v1/agents/coder/aid", http.Header{"Authorization": {"Bearer " + aliceToken}}, "")
		jwks := call(t, http.MethodGet, r.URL+"/.well-known/jwks.json", nil, "")
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(jwks.Body, &set); err != nil {
			t.Fatal(err)
		}
		doc, err := registry.VerifyAID(aid.Body, set, time.Now())
		if err != nil || doc.AgentID != "coder" {
			t.Fatalf("VerifyAID: %v (%d %s)", err, aid.Status, aid.Body)
		}
	})

	t.Run("discovery and health", func(t *testing.T) {
		md := call(t, http.MethodGet, r.URL+"/.well-known/oauth-authorization-server", nil, "")
		if md.field(t, "issuer") != r.URL || md.field(t, "token_endpoint") != r.URL+"/v1/token" {
			t.Fatalf("metadata: %s", md.Body)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if got := call(t, http.MethodGet, r.URL+p, nil, ""); got.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", p, got.Status, got.Body)
			}
		}
		m := call(t, http.MethodGet, r.URL+"/metrics", nil, "")
		if !strings.Contains(string(m.Body), `aip_issuer_tokens_issued_total{method="dpop"}`) ||
			!strings.Contains(string(m.Body), `aip_issuer_sign_duration_seconds_count{outcome="ok",signer="local"}`) {
			t.Fatalf("metrics lack issuance or sign latency:\n%s", m.Body)
		}
	})
}
