package enforcercmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/cli"
)

const minimalPolicy = `apiVersion: aip.io/v1alpha1
kind: AgentPolicy
metadata: {name: cmd-test}
spec:
  allowed_tools: [echo]
`

func TestStdioCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	marker := filepath.Join(dir, "started")
	signed := filepath.Join(dir, "signed.yaml")
	trusted, other := filepath.Join(dir, "trusted.pub"), filepath.Join(dir, "other.pub")
	signedPolicy := writeKeys(t, trusted, other)
	auditLog := filepath.Join(dir, "audit.jsonl")
	for p, body := range map[string]string{good: minimalPolicy, bad: minimalPolicy + "  allowed_tool: [x]\n", signed: signedPolicy} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	echoCall := func(id int, path string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"path":%q}}}`, id, path) + "\n"
	}
	tests := []struct {
		name        string
		args        []string
		stdin       string
		wantCode    int
		wantStderr  string
		wantStdout  string
		wantStdout2 string
		wantStdout3 string
		started     bool
	}{
		{name: "policy required", args: []string{"stdio", "--", "true"}, wantCode: 2, wantStderr: "--policy FILE is required"},
		{name: "command required", args: []string{"stdio", "--policy", good}, wantCode: 2, wantStderr: "no MCP server command"},
		{name: "invalid policy refuses to start", args: []string{"stdio", "--policy", bad, "--", "sh", "-c", "touch " + marker},
			wantCode: 1, wantStderr: "spec.allowed_tool"},
		{name: "missing policy refuses to start", args: []string{"stdio", "--policy", filepath.Join(dir, "none.yaml"), "--", "sh", "-c", "touch " + marker},
			wantCode: 1, wantStderr: "refusing to start"},
		{name: "child exit code", args: []string{"stdio", "--policy", good, "--", "sh", "-c", "touch " + marker + "; exit 3"},
			wantCode: 3, started: true},
		{name: "relays through the policy", args: []string{"stdio", "--policy", good, "--", "sh", "-c", `read l; echo '{"jsonrpc":"2.0","id":2,"result":{}}'`},
			stdin:      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n",
			wantStdout: `{"jsonrpc":"2.0","id":1,"error":{"code":-32001`, wantStdout2: `{"jsonrpc":"2.0","id":2,"result":{}}`},
		{name: "signed policy starts with its trusted key", args: []string{"stdio", "--policy", signed, "--trusted-key", trusted, "--", "sh", "-c", "touch " + marker},
			wantStderr: "signature_required=true", started: true},
		{name: "unsigned policy refuses to start with a trusted key", args: []string{"stdio", "--policy", good, "--trusted-key", trusted, "--", "sh", "-c", "touch " + marker},
			wantCode: 1, wantStderr: "signature"},
		{name: "policy signed by another key refuses to start", args: []string{"stdio", "--policy", signed, "--trusted-key", other, "--", "sh", "-c", "touch " + marker},
			wantCode: 1, wantStderr: "signature"},
		{name: "unreadable trusted key refuses to start", args: []string{"stdio", "--policy", signed, "--trusted-key", good, "--", "sh", "-c", "touch " + marker},
			wantCode: 1, wantStderr: "trusted key"},
		{name: "the audit log is a protected path", args: []string{"stdio", "--policy", good, "--audit", auditLog, "--", "sh", "-c", `read l; echo '{"jsonrpc":"2.0","id":3,"result":{}}'`},
			stdin:      echoCall(1, auditLog) + echoCall(2, auditLog+".1") + echoCall(3, filepath.Join(dir, "elsewhere")),
			wantStdout: `{"jsonrpc":"2.0","id":1,"error":{"code":-32007`, wantStdout2: `{"jsonrpc":"2.0","id":2,"error":{"code":-32007`,
			wantStdout3: `{"jsonrpc":"2.0","id":3,"result":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(marker)
			var stdout, stderr bytes.Buffer
			env := cli.Env{Stdin: strings.NewReader(tc.stdin), Stdout: &stdout, Stderr: &stderr}
			code := cli.Main(context.Background(), Root(), env, tc.args)
			if code != tc.wantCode {
				t.Fatalf("exit %d; want %d\nstderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.wantStderr)
			}
			for _, want := range []string{tc.wantStdout, tc.wantStdout2, tc.wantStdout3} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout %q lacks %q", stdout.String(), want)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				if line != "" && !strings.HasPrefix(line, `{"jsonrpc":"2.0"`) {
					t.Errorf("stdout carries a non-protocol line: %q", line)
				}
			}
			if _, err := os.Stat(marker); (err == nil) != tc.started {
				t.Errorf("MCP server started: %v; want %v", err == nil, tc.started)
			}
		})
	}
}

// writeKeys writes two PEM public keys and returns minimalPolicy signed
// with the first one's private key.
func writeKeys(t *testing.T, trusted, other string) string {
	t.Helper()
	var signed []byte
	for i, path := range []string{trusted, other} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		_, pub, err := policy.MarshalKeyPair(priv)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pub, 0o600); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if signed, err = policy.SignYAML([]byte(minimalPolicy), priv); err != nil {
				t.Fatal(err)
			}
		}
	}
	return string(signed)
}
