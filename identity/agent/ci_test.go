package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
)

const (
	githubSub = "repo:octo-org/app:ref:refs/heads/main"
	gitlabSub = "project_path:infra/deploy:ref_type:branch:ref:main"
)

// ciSetup is a running issuer trusting the test CI issuer for octo-org's
// repositories (GitHub-shaped claims) and infra/* projects (GitLab) as
// the agent "deployer", and an MCP server. The CI issuer is on c.
func ciSetup(t *testing.T, c *clock) (*setup, *env.CIIssuer) {
	t.Helper()
	ci := env.StartCIIssuer(t)
	ci.Now = c.Now
	s := &setup{clock: c, fetches: &countingTransport{}}
	s.issuerURL, s.issuer = issuertest.Start(t, issuertest.Options{LocalUser: localUser, Now: c.Now, Extra: fmt.Sprintf(`ci_trust:
  - {name: github, issuer: %[1]q, audience: aip-ci, agent: deployer, capabilities: [read_file], ttl: 5m,
     conditions: {repository: "octo-org/*", ref: refs/heads/main}}
  - {name: gitlab, issuer: %[1]q, audience: gitlab-aip, agent: deployer, capabilities: [read_file], ttl: 5m,
     conditions: {project_path: "infra/**"}}
`, ci.URL)})
	// The job acts as deployer; the agent's own key is never used.
	issuertest.RegisterNativeAgent(t, s.issuer, "nobody", "deployer", "read_file")
	s.server = startMCPServer(t, s.issuerURL, c, filesServer())
	return s, ci
}

// inCI configures s's agent as a CI job: the CI token and no key.
func inCI(ciToken func(context.Context) (string, error)) func(*agent.Config) {
	return func(c *agent.Config) { c.LocalUser, c.Key, c.CIToken = "", nil, ciToken }
}

// actionsRuntime stands in for the GitHub Actions runtime's token
// endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): it checks the request token
// and mints a new token for octo-org/app for the asked audience on each
// request, which it counts.
func actionsRuntime(t *testing.T, ci *env.CIIssuer) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer runtime-request-token" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		n.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]string{"value": ci.Mint(t, env.GitHubClaims(r.URL.Query().Get("audience"), "octo-org", "app"))})
	}))
	t.Cleanup(srv.Close)
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/_apis/idtoken?api-version=2.0")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-token")
	return &n
}

// A GitHub Actions job calls a tool through the MCP Go SDK with its CI
// token alone; renewing the AAT fetches a new CI token.
func TestMCPClientInCIJob(t *testing.T) {
	c := newClock()
	s, ci := ciSetup(t, c)
	ciFetches := actionsRuntime(t, ci)
	tr := s.transport(t, inCI(agent.GitHubActionsToken("aip-ci", nil)))

	callReadFile(t, tr, s.server.URL)
	first := s.server.accepted()
	if _, failures, _ := s.server.seen(); len(failures) > 0 || len(first) == 0 {
		t.Fatalf("server refused: %v", failures)
	}
	if n := ciFetches.Load(); n != 1 || s.fetches.n.Load() != 1 {
		t.Fatalf("%d CI tokens, %d token requests for one session", n, s.fetches.n.Load())
	}

	// Past the renewal time (the AAT lives 5 minutes): a new CI token.
	c.Advance(4*time.Minute + 30*time.Second)
	callReadFile(t, tr, s.server.URL)
	all := s.server.accepted()
	if n := ciFetches.Load(); n != 2 || s.fetches.n.Load() != 2 {
		t.Fatalf("after renewal: %d CI tokens, %d token requests; want 2 and 2", n, s.fetches.n.Load())
	}
	if last := all[len(all)-1]; last.ID == first[0].ID {
		t.Fatalf("the AAT was not renewed: jti %s", last.ID)
	}
	for _, cl := range all {
		switch {
		case cl.Subject != githubSub || cl.Actor.Subject != "deployer":
			t.Fatalf("sub %q act %q, want the CI token's sub and the policy's agent", cl.Subject, cl.Actor.Subject)
		case cl.UserBinding.AuthMethod != "ci" || cl.UserBinding.Issuer != ci.URL:
			t.Fatalf("user_binding %+v", cl.UserBinding)
		case cl.Confirmation == nil || cl.Confirmation.JKT != tr.Thumbprint():
			t.Fatalf("cnf %+v, want the job's key %s", cl.Confirmation, tr.Thumbprint())
		}
	}
}

// A GitLab job's ID token is exchanged once: the first AAT works, and
// renewing it with the same token is refused by the issuer, surfaced as
// the issuer's reason without the token.
func TestCITokenExchangedOnce(t *testing.T) {
	c := newClock()
	s, ci := ciSetup(t, c)
	claims := env.GitLabClaims("gitlab-aip", "infra", "deploy")
	claims["exp"] = c.Now().Add(time.Hour).Unix() // as long as the job
	tok := ci.Mint(t, claims)
	t.Setenv("GITLAB_AIP_TOKEN", tok)
	client := s.transport(t, inCI(agent.GitLabToken("GITLAB_AIP_TOKEN"))).Client()

	do(t, client, http.MethodPost, s.server.URL, `{}`)
	got := s.server.accepted()
	if _, failures, _ := s.server.seen(); len(failures) > 0 || len(got) != 1 || got[0].Subject != gitlabSub {
		t.Fatalf("accepted %d, failures %v", len(got), failures)
	}

	c.Advance(6 * time.Minute) // the AAT expired
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Do(req)
	var te *agent.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" || !strings.Contains(te.Description, "already exchanged") {
		t.Fatalf("same CI token again: err = %v, want invalid_grant: already exchanged", err)
	}
	if strings.Contains(err.Error(), tok) {
		t.Fatal("the CI token is in the error")
	}
}

// A CI token that cannot be had stops the request before the issuer is
// asked, with what to fix.
func TestCITokenUnavailable(t *testing.T) {
	c := newClock()
	s, _ := ciSetup(t, c)
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
	t.Setenv("AIP_ID_TOKEN", "")
	tests := []struct {
		name    string
		ciToken func(context.Context) (string, error)
		want    string
	}{
		{"github, no id-token permission", agent.GitHubActionsToken("aip-ci", nil), "permissions: id-token: write"},
		{"github, no audience", agent.GitHubActionsToken("", nil), "audience is required"},
		{"gitlab, no variable", agent.GitLabToken(""), "$AIP_ID_TOKEN is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.transport(t, inCI(tt.ciToken)).RoundTrip(req)
			if err == nil || !strings.Contains(err.Error(), "ci token: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if n := s.fetches.n.Load(); n != 0 {
		t.Fatalf("%d token requests without a CI token", n)
	}
}
