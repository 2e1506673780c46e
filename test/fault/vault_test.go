package fault

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// Vault stopped under an issuer signing with transit: token requests get
// 503 temporarily_unavailable, nothing is signed (the audit log has
// refusals, no issuance), /readyz is not ready, the JWKS is still served
// from the keys last read. Vault back (a dev server: its transit key is
// new key material under the same name and version) the issuer refuses
// to sign with a key it did not publish until it reads the key again,
// then issues tokens that verify against what it publishes.
func TestVaultStopped(t *testing.T) {
	dex := env.Dex(t)
	v := env.NewVault(t)
	clock := new(stacktest.OffsetClock)
	iss := stacktest.StartIssuer(t, stacktest.IssuerOptions{Extra: dexIDP(dex.Issuer, dex.ClientID), Now: clock.Now,
		Signer: fmt.Sprintf("{type: vault, address: %q, token: %q, key: %q}", v.Addr, v.Token, v.TransitKey)})
	issuerURL, auditPath := iss.URL, iss.AuditPath
	key := registerEngineer(t, iss.Issuer, "vaulted")
	bob := dex.IDToken(t, env.Bob)

	got := exchange(t, issuerURL, bob, key, clock.Now)
	if got.Status != http.StatusOK {
		t.Fatalf("exchange with vault up: %d %s %s", got.Status, got.Error, got.ErrorDescription)
	}
	if _, err := verifyAAT(issuerURL, got.AccessToken, clock.Now); err != nil {
		t.Fatalf("AAT signed in vault does not verify: %v", err)
	}

	v.Stop(t)
	t.Run("vault down: 503, nothing signed", func(t *testing.T) {
		for range 3 {
			got := exchange(t, issuerURL, bob, key, clock.Now)
			if got.Status != http.StatusServiceUnavailable || got.Error != oauth.TemporarilyUnavailable || got.AccessToken != "" {
				t.Fatalf("exchange with vault down: %d %q %q token=%v; want 503 %s and no token",
					got.Status, got.Error, got.ErrorDescription, got.AccessToken != "", oauth.TemporarilyUnavailable)
			}
		}
		if status := getStatus(t, issuerURL+"/readyz"); status != http.StatusServiceUnavailable {
			t.Fatalf("/readyz with vault down: %d, want 503", status)
		}
		// Verifiers keep the keys they need: the JWKS is served from the
		// versions last read.
		if status := getStatus(t, issuerURL+"/.well-known/jwks.json"); status != http.StatusOK {
			t.Fatalf("jwks with vault down: %d, want 200 from the keys last read", status)
		}
		counts, recs := auditDecisions(t, auditPath)
		if counts[audit.Issue] != 1 || counts[audit.Refuse] != 3 {
			t.Fatalf("audit: %v, want 1 issuance (before the outage) and 3 refusals", counts)
		}
		for _, r := range recs[1:] {
			if !strings.Contains(r.Reason, "signer_unavailable") {
				t.Fatalf("refusal reason %q, want signer_unavailable", r.Reason)
			}
		}
	})

	v.Start(t)
	t.Run("vault back", func(t *testing.T) {
		// Within the signer's key cache (1 min), the issuer still holds the
		// lost key's public half: Vault's signature by the new key fails
		// the issuer's own check, and no token leaves. Whether this answer
		// still falls in that minute depends on how long Vault took to
		// start, so both outcomes are accepted, each checked.
		got := exchange(t, issuerURL, bob, key, clock.Now)
		switch {
		case got.Status == http.StatusOK:
			if _, err := verifyAAT(issuerURL, got.AccessToken, clock.Now); err != nil {
				t.Fatalf("token issued right after vault came back does not verify: %v", err)
			}
			t.Log("right after vault came back: issued (the key cache had expired)")
		case got.Status == http.StatusInternalServerError && got.Error == oauth.ServerError && got.AccessToken == "":
			t.Logf("right after vault came back: 500 %s (vault signed with a key the issuer has not published)", got.Error)
		default:
			t.Fatalf("right after vault came back: %d %q %q", got.Status, got.Error, got.ErrorDescription)
		}
		clock.Advance(61 * time.Second) // past the key cache's TTL
		got = exchange(t, issuerURL, bob, key, clock.Now)
		if got.Status != http.StatusOK {
			t.Fatalf("exchange once the key was read again: %d %s %s", got.Status, got.Error, got.ErrorDescription)
		}
		if _, err := verifyAAT(issuerURL, got.AccessToken, clock.Now); err != nil {
			t.Fatalf("AAT signed after vault came back does not verify against the JWKS: %v", err)
		}
		if status := getStatus(t, issuerURL+"/readyz"); status != http.StatusOK {
			t.Fatalf("/readyz with vault back: %d", status)
		}
		if counts, _ := auditDecisions(t, auditPath); counts[audit.Issue] < 2 {
			t.Fatalf("audit after recovery: %v, want the new issuance", counts)
		}
	})
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
