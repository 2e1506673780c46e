package fault

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
)

// offsetClock is a clock a test moves forward.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

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

// tokenAnswer is the issuer's answer to a token request.
type tokenAnswer struct {
	status           int
	AccessToken      string `json:"access_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// exchange asks the issuer for an AAT for the user of idToken, the agent
// proving itself with a DPoP proof of k made on clock now (nil: time.Now).
func exchange(t *testing.T, issuerURL, idToken string, k *dpop.Key, now func() time.Time) tokenAnswer {
	t.Helper()
	f := url.Values{
		"grant_type":         {token.GrantTypeTokenExchange},
		"subject_token":      {idToken},
		"subject_token_type": {token.TokenTypeIDToken},
		"audience":           {audience},
	}
	proof, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: issuerURL + "/v1/token", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, issuerURL+"/v1/token", strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var a tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("token answer (%d) is not JSON: %v", resp.StatusCode, err)
	}
	a.status = resp.StatusCode
	return a
}

// verifyAAT checks raw against the JWKS the issuer publishes now, on
// clock now, as an enforcer does.
func verifyAAT(issuerURL, raw string, now func() time.Time) (*aat.Claims, error) {
	keys, err := aat.NewJWKSSource(aat.JWKSConfig{URL: issuerURL + "/.well-known/jwks.json", Now: now})
	if err != nil {
		return nil, err
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{issuerURL: keys}, Audience: audience, Now: now})
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), raw)
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
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	counts := map[audit.Decision]int{}
	var recs []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit record: %v", err)
		}
		counts[r.Decision]++
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts, recs
}
