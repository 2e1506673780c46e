package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/test/env"
)

// make demo-spire keeps working: scripts/demo-spire.sh runs the whole
// production-shaped stack (its own SPIRE, Vault, Dex, Redis, issuer and
// two enforcers, not test/env's) and must pass every scenario (among them
// the SSO binding: Bob binds the agent at the issuer's /bind pages, the
// agent exchanges its SVID alone), print its summary, and never print a
// token.
func TestDemoSPIRE(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (runs SPIRE, Vault, Dex, Redis and the MCP servers); run without -short")
	}
	repo := repoDir(t)
	// The script finds every component itself; resolve them as test/env
	// does so a missing one fails here with the same message.
	vars := []string{"AIP_BIN=" + buildCommands(t)}
	for _, c := range []struct{ envVar, name string }{
		{"SPIRE_SERVER", "spire-server"}, {"SPIRE_AGENT", "spire-agent"}, {"VAULT", "vault"},
		{"DEX", "dex"}, {"REDIS_SERVER", "redis-server"},
	} {
		vars = append(vars, c.envVar+"="+componentBinary(t, c.envVar, c.name))
	}
	env.MCPServerCommand(t, env.MCPFilesystem, repo) // fails clearly when the MCP servers are missing

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repo, "scripts", "demo-spire.sh"))
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), vars...)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		t.Fatalf("scripts/demo-spire.sh: %v\n%s", err, out.String())
	}
	text := out.String()
	summary := text[strings.LastIndex(text, "== summary"):]
	for _, scenario := range []string{
		"SPIRE entries registered", "issuer on SPIFFE mTLS", "agent registered", "signed AID verified",
		"agent X509-SVID", "allowed read", "denied tool (policy block)", "argument violation", "protected path",
		"tool outside the AAT", "DLP redaction", "AAT signed by Vault transit", "allowed read on replica B",
		"replay on the other replica", "SSO binding by the user", "aip bindings list", "exchange on the SSO binding",
		"bound tool allowed", "tool outside the binding", "binding revoked: no exchange",
		"revoked on both replicas", "enforcer A audit verified",
		"enforcer B audit verified", "issuer audit log verified",
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(scenario) + `\s+.*\sPASS\s`).MatchString(summary) {
			t.Errorf("no PASS row %q in the summary:\n%s", scenario, summary)
		}
	}
	if !regexp.MustCompile(`(?m)^all \d+ scenarios passed$`).MatchString(summary) {
		t.Errorf("no closing line in the summary:\n%s", summary)
	}
	// A JWT (AAT, ID token, DPoP proof) starts with a base64url JSON
	// header: eyJ. None may be printed.
	if i := strings.Index(text, "eyJ"); i >= 0 {
		t.Errorf("the demo printed something like a token: ...%s...", text[max(0, i-40):min(len(text), i+20)])
	}
	if m := regexp.MustCompile(`kept (/\S+)`).FindStringSubmatch(text); m != nil {
		t.Errorf("the demo kept its directory %s after a success", m[1])
		_ = os.RemoveAll(m[1])
	}
}
