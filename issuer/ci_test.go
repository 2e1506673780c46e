package issuer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/env"
)

const ciAud = "https://aip.test"

// startCIIssuer serves an issuer trusting the test CI issuer's tokens for
// repositories of octo-org on protected refs, as agent "deployer", and
// registers that agent.
func startCIIssuer(t *testing.T) (*running, *env.CIIssuer) {
	t.Helper()
	ci := env.StartCIIssuer(t)
	r := startIssuer(t, fmt.Sprintf(`ci_trust:
  - name: octo-deploy
    issuer: %q
    audience: %q
    conditions: {repository: "octo-org/*", repository_owner_id: 4200001, ref_protected: true}
    agent: deployer
    capabilities: [deploy, read_file, rollback]
    ttl: 10m
`, ci.URL, ciAud), issuer.Options{})
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	// The agent's own key is not what the job proves: the job has none.
	pub := publicJWK(k)
	if _, err := r.Issuer.Registry().Create(context.Background(), registry.Agent{ID: "deployer",
		PublicKey: &pub, Capabilities: []string{"deploy", "read_file", "delete_repo"}}); err != nil {
		t.Fatal(err)
	}
	return r, ci
}

// ciExchange posts a CI token exchange with a DPoP proof of k (when set).
func (r *running) ciExchange(t *testing.T, ciToken string, k *dpop.Key, extra url.Values) reply {
	t.Helper()
	f := url.Values{
		"grant_type":         {token.GrantTypeTokenExchange},
		"subject_token":      {ciToken},
		"subject_token_type": {token.TokenTypeJWT},
		"audience":           {"https://mcp.test/files"},
	}
	for name, v := range extra {
		f[name] = v
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if k != nil {
		p, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: r.URL + "/v1/token"})
		if err != nil {
			t.Fatal(err)
		}
		hdr.Set("DPoP", p)
	}
	return call(t, http.MethodPost, r.URL+"/v1/token", hdr, f.Encode())
}

func TestCIExchange(t *testing.T) {
	r, ci := startCIIssuer(t)
	job, err := dpop.NewKey("") // the job's ephemeral key
	if err != nil {
		t.Fatal(err)
	}
	claims := env.GitHubClaims(ciAud, "octo-org", "app")
	exp := time.Now().Add(4 * time.Minute)
	claims["exp"] = exp.Unix()
	ciToken := ci.Mint(t, claims)

	got := r.ciExchange(t, ciToken, job, url.Values{"scope": {"deploy read_file rollback"}})
	if got.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", got.Status, got.Body)
	}
	if got.field(t, "token_type") != token.TypeDPoP || got.field(t, "scope") != "deploy read_file" {
		t.Errorf("response %s", got.Body)
	}
	c := r.verifyAAT(t, got.field(t, "access_token"))
	switch {
	case c.Subject != "repo:octo-org/app:ref:refs/heads/main":
		t.Errorf("sub = %q", c.Subject)
	case c.Actor.Subject != "deployer" || c.Agent.ID != "deployer":
		t.Errorf("act = %+v, agent = %+v", c.Actor, c.Agent)
	case c.UserBinding.AuthMethod != token.AuthMethodCI || c.UserBinding.Issuer != ci.URL || c.UserBinding.UserID != c.Subject:
		t.Errorf("user_binding = %+v", c.UserBinding)
	case strings.Join(c.Capabilities.Tools, " ") != "deploy read_file":
		t.Errorf("capabilities = %v (policy ∩ agent ∩ scope)", c.Capabilities.Tools)
	case c.Confirmation == nil || c.Confirmation.JKT != job.Thumbprint():
		t.Errorf("cnf = %+v, want the job's key %s", c.Confirmation, job.Thumbprint())
	case c.Expiry.Time().After(exp):
		t.Errorf("exp %v after the CI token's %v", c.Expiry.Time(), exp)
	case c.SessionID == "":
		t.Error("no session id")
	}

	// Once: a second exchange of the same CI token, even with a fresh
	// proof and key, is refused with a clear reason.
	other, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	again := r.ciExchange(t, ciToken, other, nil)
	if again.Status != http.StatusBadRequest || again.field(t, "error") != "invalid_grant" ||
		!strings.Contains(again.field(t, "error_description"), "already exchanged") {
		t.Fatalf("replay: %d %s", again.Status, again.Body)
	}

	// The audit log has both decisions, the CI token's hash, never the token.
	log, err := os.ReadFile(filepath.Join(r.dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), ciToken) || strings.Contains(string(log), strings.Split(ciToken, ".")[2]) {
		t.Fatal("the CI token is in the audit log")
	}
	for _, w := range []string{`"decision":"ISSUE"`, `"decision":"REFUSE"`, "ci_token_replayed", "ci_policy=octo-deploy", "ci_token_sha256=", `"agent_id":"deployer"`} {
		if !strings.Contains(string(log), w) {
			t.Errorf("audit log lacks %q:\n%s", w, log)
		}
	}
}

func TestCIExchangeRefusals(t *testing.T) {
	r, ci := startCIIssuer(t)
	job, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	mint := func(change map[string]any) string {
		c := env.GitHubClaims(ciAud, "octo-org", "app")
		for k, v := range change {
			c[k] = v
		}
		return ci.Mint(t, c)
	}
	tests := []struct {
		name      string
		token     string
		key       *dpop.Key
		extra     url.Values
		wantCode  string
		wantDescr string
	}{
		{"no dpop proof", mint(nil), nil, nil, "invalid_dpop_proof", "needs a DPoP proof"},
		{"actor token", mint(nil), job, url.Values{"actor_token": {"x.y.z"}, "actor_token_type": {token.TokenTypeJWT}}, "invalid_request", "not an actor token"},
		{"another owner", mint(map[string]any{"repository": "evil-org/app", "repository_owner_id": "666"}), job, nil, "invalid_grant", "no ci_trust policy accepts"},
		{"unprotected ref", mint(map[string]any{"ref_protected": "false"}), job, nil, "invalid_grant", "no ci_trust policy accepts"},
		{"wrong audience", mint(map[string]any{"aud": "https://other.test"}), job, nil, "invalid_grant", "no ci_trust policy accepts"},
		{"expired", mint(map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}), job, nil, "invalid_grant", "authentication failed"},
		{"bad signature", ci.Forge(t, env.GitHubClaims(ciAud, "octo-org", "app")), job, nil, "invalid_grant", "authentication failed"},
		{"untrusted issuer", env.StartCIIssuer(t).Mint(t, env.GitHubClaims(ciAud, "octo-org", "app")), job, nil, "invalid_grant", "authentication failed"},
		{"scope outside the policy", mint(nil), job, url.Values{"scope": {"delete_repo"}}, "invalid_scope", "no requested tool"},
		{"no audience", mint(nil), job, url.Values{"audience": nil}, "invalid_target", "audience or resource is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.ciExchange(t, tt.token, tt.key, tt.extra)
			if got.field(t, "error") != tt.wantCode || !strings.Contains(got.field(t, "error_description"), tt.wantDescr) {
				t.Fatalf("%d %s; want %s %q", got.Status, got.Body, tt.wantCode, tt.wantDescr)
			}
		})
	}

	// A suspended agent gets nothing.
	if _, err := r.Issuer.Registry().UpdateStatus(context.Background(), "deployer", registry.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if got := r.ciExchange(t, mint(nil), job, nil); got.field(t, "error") != "unauthorized_client" {
		t.Fatalf("suspended agent: %d %s", got.Status, got.Body)
	}
}

// An ID token exchange never reaches the CI path, and the reverse: the
// subject_token_type decides.
func TestCIExchangeDispatch(t *testing.T) {
	r, ci := startCIIssuer(t)
	job, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	// As an id_token, the job's key must be a registered agent's: it is
	// not, and the CI policy's agent is not considered.
	got := r.exchange(t, ci.Mint(t, env.GitHubClaims(ciAud, "octo-org", "app")), job, "")
	if got.field(t, "error") != "invalid_client" {
		t.Fatalf("a CI token as an id_token: %d %s", got.Status, got.Body)
	}
}

// Two replicas on one Redis: a CI token exchanged at one is refused at
// the other.
func TestCIExchangeReplicasShareReplay(t *testing.T) {
	ci, redis := env.StartCIIssuer(t), env.Redis(t)
	extra := fmt.Sprintf(`store: {type: redis, addrs: [%q], prefix: %q}
ci_trust:
  - {name: octo, issuer: %q, audience: aip-ci, agent: deployer, capabilities: [deploy],
     conditions: {repository_owner_id: 4200001}}
`, redis.Addr, fmt.Sprintf("ci%d", time.Now().UnixNano()), ci.URL)
	a := startIssuer(t, extra, issuer.Options{})
	b := startIssuer(t, extra, issuer.Options{})
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	pub := publicJWK(k)
	if _, err := a.Issuer.Registry().Create(context.Background(), registry.Agent{ID: "deployer", PublicKey: &pub, Capabilities: []string{"deploy"}}); err != nil {
		t.Fatal(err)
	}
	ciToken := ci.Mint(t, env.GitHubClaims("aip-ci", "octo-org", "app"))
	if got := a.ciExchange(t, ciToken, k, nil); got.Status != http.StatusOK {
		t.Fatalf("replica a: %d %s", got.Status, got.Body)
	}
	if got := b.ciExchange(t, ciToken, k, nil); got.field(t, "error") != "invalid_grant" || !strings.Contains(got.field(t, "error_description"), "already exchanged") {
		t.Fatalf("replica b: %d %s", got.Status, got.Body)
	}
}
