package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/config"
)

// ciOnly is an issuer trusting only CI tokens: no identity provider.
const ciOnly = `
token: {default_ttl: 5m, max_ttl: 30m}
ci_trust:
  - name: app-deploy
    issuer: https://token.actions.githubusercontent.com
    audience: https://aip.example.org
    conditions: {repository: octo-org/app, repository_id: 690000001, ref_protected: true, ref: "refs/heads/*"}
    agent: deployer
    capabilities: [deploy, read_file]
  - name: gitlab-infra
    issuer: https://gitlab.example.org
    jwks_url: https://gitlab.example.org/oauth/discovery/keys
    audience: aip
    conditions: {project_path: "infra/**"}
    agent: infra-bot
    capabilities: [plan]
    ttl: 10m
`

func TestCITrust(t *testing.T) {
	cfg, err := config.Parse([]byte(ciOnly))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CITrust) != 2 {
		t.Fatalf("ci_trust = %d policies", len(cfg.CITrust))
	}
	gh, gl := cfg.CITrust[0], cfg.CITrust[1]
	if gh.TTL != 5*time.Minute || gl.TTL != 10*time.Minute {
		t.Errorf("ttl = %v, %v; want token.default_ttl and 10m", gh.TTL, gl.TTL)
	}
	var conds []string
	for _, c := range gh.Conditions {
		conds = append(conds, c.Claim+"="+c.Pattern)
	}
	// Sorted by claim; YAML numbers and booleans kept as written.
	if got := strings.Join(conds, " "); got != "ref=refs/heads/* ref_protected=true repository=octo-org/app repository_id=690000001" {
		t.Errorf("conditions = %s", got)
	}
	if gl.JWKSURL != "https://gitlab.example.org/oauth/discovery/keys" || gl.Agent != "infra-bot" || gl.Tools[0] != "plan" {
		t.Errorf("gitlab policy = %+v", gl)
	}
}

func TestCITrustProblems(t *testing.T) {
	policy := func(issuer, conds string) string {
		return "ci_trust: [{name: p, issuer: '" + issuer + "', audience: a, agent: deployer, capabilities: [deploy], conditions: " + conds + "}]\n"
	}
	gh, gl := config.GitHubActionsIssuer, config.GitLabComIssuer
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"github: ref only", policy(gh, "{ref: refs/heads/main}"), []string{"ci_trust[0].conditions: would accept every repository of the shared issuer"}},
		{"github: any owner", policy(gh, "{repository: '*/app'}"), []string{"ci_trust[0].conditions: would accept every repository"}},
		{"github: owner prefix glob", policy(gh, "{repository: 'octo*/app'}"), []string{"ci_trust[0].conditions: would accept every repository"}},
		{"github: everything", policy(gh, "{repository: '**'}"), []string{"ci_trust[0].conditions: would accept every repository"}},
		{"github: owner id glob", policy(gh, "{repository_owner_id: '42*'}"), []string{"ci_trust[0].conditions: would accept every repository"}},
		{"github: sub of any repo", policy(gh, "{sub: 'repo:*'}"), []string{"ci_trust[0].conditions: would accept every repository"}},
		{"github with a trailing slash", policy(gh+"/", "{ref: refs/heads/main}"), []string{"ci_trust[0].conditions: would accept every repository"}},
		{"gitlab.com: branch only", policy(gl, "{ref: main, ref_protected: 'true'}"), []string{"ci_trust[0].conditions: would accept every repository of the shared issuer https://gitlab.com"}},
		{"gitlab.com: any group", policy(gl, "{project_path: '**/infra'}"), []string{"ci_trust[0].conditions: would accept"}},
		{"no conditions", policy("https://gitlab.example.org", "{}"), []string{"ci_trust[0].conditions: at least one claim condition"}},
		{"bad glob", policy("https://gitlab.example.org", "{project_path: 'a/***'}"), []string{`ci_trust[0].conditions.project_path: use * (within a path segment) or **`}},
		{"empty pattern", policy("https://gitlab.example.org", "{project_path: ''}"), []string{"ci_trust[0].conditions.project_path: empty pattern"}},
		{"list pattern", policy("https://gitlab.example.org", "{project_path: [a, b]}"), []string{"ci_trust[0].conditions.project_path: must be a string"}},
		{"missing fields", "ci_trust: [{issuer: 'http://ci.example.org', jwks_url: 'ftp://k', conditions: {a: b}, ttl: 2h}]\n",
			[]string{"ci_trust[0].name: is required", "ci_trust[0].issuer: must be https", "ci_trust[0].audience: is required",
				"ci_trust[0].jwks_url: must be an https URL", "ci_trust[0].agent: must be a registered agent id", "ci_trust[0].capabilities: at least one tool",
				"ci_trust[0].ttl: must be a duration in (0, 1h0m0s]"}},
		{"duplicate name and tool", "ci_trust: [" +
			"{name: p, issuer: 'https://ci.example.org', audience: a, agent: x, capabilities: [d, d], conditions: {a: b}}," +
			"{name: p, issuer: 'https://ci.example.org', jwks_url: 'https://ci.example.org/k', audience: a, agent: x, capabilities: [d], conditions: {a: b}}]\n",
			[]string{"ci_trust[1].name: duplicate name", "ci_trust[0].capabilities[1]: must be a non-empty, unique tool", "ci_trust[1].jwks_url: differs from another policy"}},
		{"issuer with a query", policy("https://ci.example.org/?x=1", "{a: b}"), []string{"ci_trust[0].issuer: must be an absolute URL without query"}},
		{"unknown key", "ci_trust: [{name: p, issuer: 'https://ci.example.org', audience: a, agent: x, capabilities: [d], conditions: {a: b}, claims: {}}]\n",
			[]string{"ci_trust[0].claims: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.yaml))
			var verr *config.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Parse = %v, want a *ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Policies that pin the owner of a shared issuer's repositories load.
func TestCITrustPinnedOwner(t *testing.T) {
	for _, conds := range []string{
		"{repository: octo-org/app}", "{repository: 'octo-org/*'}", "{repository_owner: octo-org}", "{repository_owner_id: '4200001'}",
		"{repository_id: 690000001, ref: 'refs/heads/**'}", "{sub: 'repo:octo-org/app:environment:prod'}", "{sub: 'repo:octo-org/*:**'}",
	} {
		y := "ci_trust: [{name: p, issuer: '" + config.GitHubActionsIssuer + "', audience: a, agent: x, capabilities: [d], conditions: " + conds + "}]\n"
		if _, err := config.Parse([]byte(y)); err != nil {
			t.Errorf("%s: %v", conds, err)
		}
	}
	for _, conds := range []string{"{project_path: 'infra/**'}", "{namespace_path: infra}", "{namespace_id: 7200001}", "{project_id: '33'}",
		"{sub: 'project_path:infra/app:ref_type:branch:ref:main'}"} {
		y := "ci_trust: [{name: p, issuer: '" + config.GitLabComIssuer + "', audience: a, agent: x, capabilities: [d], conditions: " + conds + "}]\n"
		if _, err := config.Parse([]byte(y)); err != nil {
			t.Errorf("%s: %v", conds, err)
		}
	}
}

// The issuer is compared exactly with the tokens' iss: a trailing slash
// (some providers have one) is kept.
func TestCITrustIssuerAsWritten(t *testing.T) {
	cfg, err := config.Parse([]byte("ci_trust: [{name: p, issuer: 'https://ci.example.org/', audience: a, agent: x, capabilities: [d], conditions: {a: b}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.CITrust[0].Issuer; got != "https://ci.example.org/" {
		t.Fatalf("issuer = %q", got)
	}
}

func TestCIExample(t *testing.T) {
	if _, err := config.Load(filepath.Join("..", "..", "examples", "ci", "issuer.yaml")); err != nil {
		t.Fatalf("examples/ci/issuer.yaml: %v", err)
	}
}
