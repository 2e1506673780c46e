package enforcercmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/internal/cli"
)

// The reference configuration under deploy/ is valid.
func TestReferenceConfig(t *testing.T) {
	cfg, err := sidecar.Load(filepath.Join("..", "..", "..", "deploy", "enforcer.yaml"))
	if err != nil {
		t.Fatalf("deploy/enforcer.yaml: %v", err)
	}
	if cfg.TLS.Mode != sidecar.TLSModePlain || !cfg.RequireProof || cfg.Redis != nil || cfg.Revocation.FailOpen {
		t.Errorf("reference defaults changed: %+v", cfg)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte("apiVersion: aip.io/v1alpha3\nkind: AgentPolicy\nmetadata: {name: p}\nspec: {allowed_tools: [echo]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	valid := `listen: 127.0.0.1:8080
upstream: {url: "http://127.0.0.1:3001/mcp"}
policy: {path: ` + pol + `}
audience: https://mcp.test
issuers: [{issuer: "http://127.0.0.1:8443"}]
tls: {mode: plain}
`
	tests := []struct {
		name   string
		yaml   string
		code   int
		stdout string
		stderr []string
	}{
		{"valid", valid, 0, "valid (policy \"p\"", nil},
		{"every problem with its key path", `listen: 0.0.0.0:8080
upstream: {url: "ftp://x"}
policy: {path: ` + pol + `}
issuers: [{issuer: "http://a/"}, {issuer: "http://a/"}]
tls: {mode: plain}
require_proof: false
skew: forever
capabilities_mode: union
bogus: 1
`, 1, "", []string{"tls.mode: plain HTTP only on a loopback", "upstream.url:", "audience: is required",
			"issuers[0].issuer:", "issuers[1].issuer: listed twice", "require_proof: must be true",
			"skew: not a duration", "capabilities_mode:", "bogus: unknown key"}},
		{"spiffe needs its workload api and trust domains", strings.Replace(valid, "{mode: plain}", "{mode: spiffe, id_patterns: [x]}", 1), 1, "",
			[]string{"tls.workload_api_addr:", "tls.trust_domains:", "tls.id_patterns[0]:"}},
		{"missing policy file", strings.Replace(valid, pol, filepath.Join(dir, "none.yaml"), 1), 1, "", []string{"none.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "enforcer.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := cli.Main(context.Background(), Root(), cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb},
				[]string{"validate", "-config", path})
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) {
				t.Fatalf("exit %d stdout %q stderr %q", code, out.String(), errb.String())
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errb.String())
				}
			}
		})
	}
}
