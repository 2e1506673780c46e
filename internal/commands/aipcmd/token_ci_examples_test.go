package aipcmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
)

// The CI/CD examples run: the ci_trust policies of examples/ci/issuer.yaml
// (their issuers replaced by the test CI issuer) and the `aip token
// exchange` lines of the GitHub workflow and the GitLab job, run as
// written with the CI environment those jobs get.
func TestCIExamplesRun(t *testing.T) {
	examples := filepath.Join("..", "..", "..", "examples", "ci")
	ci := env.StartCIIssuer(t)
	cfg, err := os.ReadFile(filepath.Join(examples, "issuer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, trust, ok := strings.Cut(string(cfg), "\nci_trust:\n")
	if !ok {
		t.Fatal("examples/ci/issuer.yaml has no ci_trust section")
	}
	trust = strings.NewReplacer(
		"https://token.actions.githubusercontent.com", ci.URL,
		"https://gitlab.example.org", ci.URL,
	).Replace(trust)
	// The example's audience, its issuer_url, becomes the test issuer's.
	url, is := issuertest.Start(t, issuertest.Options{LocalUser: localUser, ExtraFor: func(issuerURL string) string {
		return "ci_trust:\n" + strings.ReplaceAll(trust, "https://aip.example.org", issuerURL)
	}})
	issuertest.RegisterNativeAgent(t, is, localUser, "app-deployer", "deploy", "status")
	issuertest.RegisterNativeAgent(t, is, localUser, "infra-planner", "plan")
	t.Setenv("AIP_ISSUER", url)

	t.Run("github", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("RUNNER_TEMP", dir)
		actionsRuntime(t, ci, "octo-org/app", map[string]any{"environment": "production"})
		args := exampleCommand(t, filepath.Join(examples, "github-actions.yml"))
		code, out, errOut := (&testIssuer{}).run(t, args...)
		if code != 0 {
			t.Fatalf("aip %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		k, err := loadAgentKey(filepath.Join(dir, "agent.key"))
		if err != nil {
			t.Fatal(err)
		}
		c := verifyCIAAT(t, url, "https://mcp.example.org/deploy", strings.TrimSpace(out))
		if c.Actor.Subject != "app-deployer" || strings.Join(c.Capabilities.Tools, " ") != "deploy status" || c.Confirmation.JKT != k.Thumbprint() {
			t.Errorf("act %q tools %v cnf %+v", c.Actor.Subject, c.Capabilities.Tools, c.Confirmation)
		}
	})
	t.Run("gitlab", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("CI_BUILDS_DIR", dir)
		t.Setenv("AIP_ID_TOKEN", ci.Mint(t, env.GitLabClaims(url, "infra", "deploy")))
		args := exampleCommand(t, filepath.Join(examples, "gitlab-ci.yml"))
		code, out, errOut := (&testIssuer{}).run(t, args...)
		if code != 0 {
			t.Fatalf("aip %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		c := verifyCIAAT(t, url, "https://mcp.example.org/plan", strings.TrimSpace(out))
		if c.Actor.Subject != "infra-planner" || strings.Join(c.Capabilities.Tools, " ") != "plan" {
			t.Errorf("act %q tools %v", c.Actor.Subject, c.Capabilities.Tools)
		}
	})
}

// exampleCommand returns the arguments of the `aip token exchange` line
// of a CI file (continued by trailing backslashes), as a shell would:
// double quotes removed, $VAR and ${VAR} expanded from the environment,
// the output redirection dropped.
func exampleCommand(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(strings.TrimLeft(l, " -"), "aip token exchange ")
	})
	if start < 0 {
		t.Fatalf("%s has no `aip token exchange` command", path)
	}
	lines[start] = strings.TrimPrefix(strings.TrimLeft(lines[start], " -"), "aip token exchange ")
	var line strings.Builder
	for _, l := range lines[start:] {
		if s, cont := strings.CutSuffix(strings.TrimRight(l, " "), "\\"); cont {
			line.WriteString(s + " ")
			continue
		}
		line.WriteString(l)
		break
	}
	args := []string{"token", "exchange"}
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line.String() + " " {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				args = append(args, os.ExpandEnv(cur.String()))
				cur.Reset()
			}
			inWord = false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if i := slices.Index(args, ">"); i >= 0 {
		args = args[:i]
	}
	return args
}
