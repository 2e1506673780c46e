package sidecar_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
)

// With max_delegation_age, a token whose user signed in longer ago, or
// that does not say when, is -32019 Delegation expired; a fresh sign-in
// and an SVID actor registered for its agent pass.
func TestDelegationAndRegistration(t *testing.T) {
	fi := newFakeIssuer(t)
	up := newUpstream(t, false)
	base := sidecarUnder(t, fi, up.URL, "max_delegation_age: 1h\n")
	url := base + "/mcp"
	k := agentKey(t)
	signedIn := func(ago time.Duration) func(*aat.Claims) {
		return func(c *aat.Claims) { c.UserBinding.AuthTime = *jwt.NewNumericDate(time.Now().Add(-ago)) }
	}
	tests := []struct {
		name   string
		edit   func(*aat.Claims)
		status int
		code   int
	}{
		{"signed in 10 minutes ago", signedIn(10 * time.Minute), http.StatusOK, 0},
		{"signed in 2 hours ago", signedIn(2 * time.Hour), http.StatusUnauthorized, -32019},
		{"sign-in time unknown", nil, http.StatusUnauthorized, -32019},
		{"SVID actor registered for its agent", func(c *aat.Claims) {
			signedIn(time.Minute)(c)
			c.Actor.Subject, c.Agent.SPIFFEID = "spiffe://example.org/agent/a", "spiffe://example.org/agent/a"
		}, http.StatusOK, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := send(t, request(t, url, callEcho, fi.mint(t, k, tt.edit), k))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.code == 0 {
				return
			}
			var resp struct{ Error rpcError }
			if err := json.Unmarshal(body, &resp); err != nil || resp.Error.Code != tt.code || resp.Error.Data.Reason == "" {
				t.Fatalf("body %s, want code %d with a reason", body, tt.code)
			}
			if got := h.Get("WWW-Authenticate"); got == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
		})
	}
}
