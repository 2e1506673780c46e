package issuer

import (
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/config"
)

func TestCIPolicies(t *testing.T) {
	cfg, err := config.Parse([]byte(`
token: {default_ttl: 5m, max_ttl: 30m}
ci_trust:
  - name: app-deploy
    issuer: https://token.actions.githubusercontent.com
    audience: https://aip.example.org
    conditions: {repository: "octo-org/*", repository_id: 690000001}
    agent: deployer
    capabilities: [deploy]
`))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := ciPolicies(cfg.CITrust)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("%d policies", len(ps))
	}
	p := ps[0]
	if p.Name != "app-deploy" || p.Issuer != "https://token.actions.githubusercontent.com" || p.Audience != "https://aip.example.org" ||
		p.Agent != "deployer" || len(p.Tools) != 1 || p.Tools[0] != "deploy" || p.TTL != 5*time.Minute || p.JWKSURL != "" {
		t.Fatalf("policy = %+v", p)
	}
	if len(p.Conditions) != 2 || p.Conditions[0].Claim != "repository" || p.Conditions[1].Claim != "repository_id" {
		t.Fatalf("conditions = %+v", p.Conditions)
	}
	if !p.Conditions[0].Pattern.Match("octo-org/app") || p.Conditions[0].Pattern.Match("evil-org/app") {
		t.Error("repository pattern does not match as written")
	}

	bad := []config.CIPolicy{{Name: "p", Conditions: []config.CICondition{{Claim: "ref", Pattern: "a***"}}}}
	if _, err := ciPolicies(bad); err == nil {
		t.Error("a pattern the config would refuse was compiled")
	}
}
