package fault

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/stacktest"
)

// dexIDP is the issuer configuration trusting the Dex at issuerURL.
func dexIDP(issuerURL, clientID string) string {
	return fmt.Sprintf("identity_providers: [{name: dex, issuer_url: %q, audience: %q}]\n", issuerURL, clientID)
}

// registerEngineer registers a native-key agent that any member of the
// engineering group (Bob) may use, with the echo tool.
func registerEngineer(t *testing.T, is *issuer.Issuer, id string) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: id, PublicKey: &jose.JSONWebKey{Key: k.Public()},
		Capabilities: []string{"echo"}, AllowedGroups: []string{"engineering"}}); err != nil {
		t.Fatal(err)
	}
	return k
}

// exchange asks the issuer for an AAT for the user of idToken, the agent
// proving itself with a DPoP proof of k made on clock now (nil: time.Now).
func exchange(t *testing.T, issuerURL, idToken string, k *dpop.Key, now func() time.Time) stacktest.TokenAnswer {
	t.Helper()
	return stacktest.Exchange(t, http.DefaultClient, issuerURL, stacktest.TokenRequest{SubjectToken: idToken,
		SubjectTokenType: token.TokenTypeIDToken, Audience: audience, DPoP: k, Now: now})
}

// verifyAAT checks raw against the JWKS the issuer publishes now, on
// clock now, as an enforcer does.
func verifyAAT(issuerURL, raw string, now func() time.Time) (*aat.Claims, error) {
	return stacktest.VerifyAAT(nil, issuerURL, audience, raw, now)
}

// tokenTransport sends requests with a fixed AAT and a fresh DPoP proof
// of key: an agent that keeps the token it has (no renewal).
type tokenTransport struct {
	token string
	key   *dpop.Key
}

func (tt tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		if body, err = io.ReadAll(rc); err != nil {
			return nil, err
		}
	}
	proof, err := dpop.Proof(tt.key, dpop.Options{Method: req.Method, URL: req.URL.String(), AccessToken: tt.token, Body: body})
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "DPoP "+tt.token)
	r.Header.Set("DPoP", proof)
	return http.DefaultTransport.RoundTrip(r)
}

// auditDecisions counts the records of an audit log by decision, after
// checking its chain.
func auditDecisions(t *testing.T, path string) (map[audit.Decision]int, []audit.Record) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := audit.Verify(f); err != nil {
		t.Fatalf("audit log %s: %v", path, err)
	}
	recs := stacktest.AuditRecords(t, path)
	counts := map[audit.Decision]int{}
	for _, r := range recs {
		counts[r.Decision]++
	}
	return counts, recs
}
