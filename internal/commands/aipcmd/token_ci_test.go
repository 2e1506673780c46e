package aipcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
)

const ciMCP = "https://mcp.test/deploy"

// ciIssuer is a real issuer trusting the test CI issuer for octo-org's
// repositories (GitHub-shaped claims) and infra/* projects (GitLab).
func ciIssuer(t *testing.T) (string, *env.CIIssuer) {
	t.Helper()
	ci := env.StartCIIssuer(t)
	url, is := issuertest.Start(t, issuertest.Options{LocalUser: localUser, Extra: fmt.Sprintf(`ci_trust:
  - {name: github, issuer: %[1]q, audience: %[2]q, agent: deployer, capabilities: [deploy, status],
     conditions: {repository: "octo-org/*", ref: refs/heads/main}}
  - {name: gitlab, issuer: %[1]q, audience: gitlab-aip, agent: deployer, capabilities: [status],
     conditions: {project_path: "infra/**", ref_protected: true}}
`, ci.URL, "aip-ci")})
	issuertest.RegisterNativeAgent(t, is, localUser, "deployer", "deploy", "status")
	return url, ci
}

// actionsRuntime serves ACTIONS_ID_TOKEN_REQUEST_URL as GitHub's runtime
// does: the bearer request token, ?audience=, {"value": token}.
func actionsRuntime(t *testing.T, ci *env.CIIssuer, repo string, extra ...map[string]any) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer runtime-request-token" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		owner, name, _ := strings.Cut(repo, "/")
		claims := env.GitHubClaims(r.URL.Query().Get("audience"), owner, name)
		for _, m := range extra {
			maps.Copy(claims, m)
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"value": ci.Mint(t, claims)})
	}))
	t.Cleanup(srv.Close)
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/_apis/idtoken?api-version=2.0")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-token")
}

func verifyCIAAT(t *testing.T, issuerURL, audience, raw string) *aat.Claims {
	t.Helper()
	src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: issuerURL + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{issuerURL: src}, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenExchangeCIGitHub(t *testing.T) {
	url, ci := ciIssuer(t)
	actionsRuntime(t, ci, "octo-org/app")
	keyOut := filepath.Join(t.TempDir(), "job.key")
	code, out, errOut := (&testIssuer{}).run(t, "token", "exchange", "--issuer", url, "--audience", ciMCP,
		"--ci", "github", "--ci-audience", "aip-ci", "--key-out", keyOut, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	key, err := loadAgentKey(keyOut)
	if err != nil {
		t.Fatalf("--key-out: %v", err)
	}
	c := verifyCIAAT(t, url, ciMCP, res.AccessToken)
	switch {
	case res.TokenType != "DPoP" || res.Scope != "deploy status":
		t.Errorf("response %s", out)
	case c.Subject != "repo:octo-org/app:ref:refs/heads/main" || c.Actor.Subject != "deployer":
		t.Errorf("sub %q act %q", c.Subject, c.Actor.Subject)
	case c.UserBinding.AuthMethod != "ci" || c.UserBinding.Issuer != ci.URL:
		t.Errorf("user_binding %+v", c.UserBinding)
	case c.Confirmation == nil || c.Confirmation.JKT != key.Thumbprint():
		t.Errorf("cnf %+v, want the saved key's %s", c.Confirmation, key.Thumbprint())
	}
	if strings.Contains(errOut, "runtime-request-token") || strings.Contains(errOut, "note:") {
		t.Errorf("stderr %q", errOut)
	}

	// A repository no policy trusts: refused with the issuer's reason.
	actionsRuntime(t, ci, "evil-org/app")
	code, out, errOut = (&testIssuer{}).run(t, "token", "exchange", "--issuer", url, "--audience", ciMCP, "--ci", "github", "--ci-audience", "aip-ci")
	if code != 1 || out != "" || !strings.Contains(errOut, "no ci_trust policy accepts this CI token") {
		t.Fatalf("untrusted repo: exit %d %q %q", code, out, errOut)
	}
}

func TestTokenExchangeCIGitLab(t *testing.T) {
	url, ci := ciIssuer(t)
	tok := ci.Mint(t, env.GitLabClaims("gitlab-aip", "infra", "deploy"))
	t.Setenv("AIP_ID_TOKEN", tok)
	code, out, errOut := (&testIssuer{}).run(t, "token", "exchange", "--issuer", url, "--audience", ciMCP, "--ci", "gitlab")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	c := verifyCIAAT(t, url, ciMCP, strings.TrimSpace(out))
	if c.Subject != "project_path:infra/deploy:ref_type:branch:ref:main" || strings.Join(c.Capabilities.Tools, ",") != "status" {
		t.Errorf("sub %q tools %v", c.Subject, c.Capabilities.Tools)
	}
	if !strings.Contains(errOut, "note: the AAT is bound to a key generated for this exchange and not saved") {
		t.Errorf("stderr %q", errOut)
	}

	// The same token again: exchanged once only.
	code, _, errOut = (&testIssuer{}).run(t, "token", "exchange", "--issuer", url, "--audience", ciMCP, "--ci", "gitlab")
	if code != 1 || !strings.Contains(errOut, "already exchanged") || strings.Contains(errOut, tok) {
		t.Fatalf("replay: exit %d %q", code, errOut)
	}

	// --ci-token-env names another variable; --key binds to an existing key.
	t.Setenv("GITLAB_AIP_TOKEN", ci.Mint(t, env.GitLabClaims("gitlab-aip", "infra", "deploy")))
	key := filepath.Join(t.TempDir(), "a.key")
	if code, _, errOut := (&testIssuer{}).run(t, "agent", "keygen", "--out", key); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut = (&testIssuer{}).run(t, "token", "exchange", "--issuer", url, "--audience", ciMCP, "--ci", "gitlab",
		"--ci-token-env", "GITLAB_AIP_TOKEN", "--key", key)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	k, err := loadAgentKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if c := verifyCIAAT(t, url, ciMCP, strings.TrimSpace(out)); c.Confirmation == nil || c.Confirmation.JKT != k.Thumbprint() {
		t.Errorf("cnf %+v", c.Confirmation)
	}
}

func TestTokenExchangeCIUsage(t *testing.T) {
	dir := t.TempDir()
	base := []string{"token", "exchange", "--issuer", "http://127.0.0.1:1", "--audience", "a"}
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
	t.Setenv("AIP_ID_TOKEN", "")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown provider", nil, []string{"--ci", "jenkins"}, 2, `--ci "jenkins": want github or gitlab`},
		{"with a user", nil, []string{"--ci", "gitlab", "--local-user"}, 2, "drop --workload-api, --subject-token-file and --local-user"},
		{"key and key-out", nil, []string{"--ci", "gitlab", "--key", "k", "--key-out", "o"}, 2, "not both"},
		{"token env on github", nil, []string{"--ci", "github", "--ci-token-env", "X"}, 2, "--ci-token-env is for --ci gitlab"},
		{"audience on gitlab", nil, []string{"--ci", "gitlab", "--ci-audience", "x"}, 2, "--ci-audience is for --ci github"},
		{"github without id-token permission", nil, []string{"--ci", "github"}, 1, "permissions: id-token: write"},
		{"github runtime over http", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://runtime.example/x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "secret-rt"},
			[]string{"--ci", "github"}, 1, "must be https"},
		{"github runtime down", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:1/x?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "secret-rt"},
			[]string{"--ci", "github"}, 1, "request the token from 127.0.0.1:1"},
		{"gitlab without token", nil, []string{"--ci", "gitlab"}, 1, "$AIP_ID_TOKEN is empty: declare it under id_tokens:"},
		{"gitlab, other variable", nil, []string{"--ci", "gitlab", "--ci-token-env", "NOPE_TOKEN"}, 1, "$NOPE_TOKEN is empty"},
		{"existing key-out", map[string]string{"AIP_ID_TOKEN": "eyJ.e30.sig"}, []string{"--ci", "gitlab", "--key-out", writeFile(t, dir, "exists", "x", 0o600)}, 1, "refusing to overwrite"},
		{"issuer down", map[string]string{"AIP_ID_TOKEN": "eyJ.e30.sig"}, []string{"--ci", "gitlab"}, 1, "token exchange: POST /v1/token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out, errOut := (&testIssuer{}).run(t, append(base, tt.args...)...)
			if code != tt.wantCode || out != "" || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
			if strings.Contains(errOut, "secret-rt") || strings.Contains(errOut, "eyJ.e30.sig") {
				t.Fatal("a token leaked to stderr")
			}
		})
	}
}
