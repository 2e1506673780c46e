package enforcercmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	for p, body := range map[string]string{good: minimalPolicy, bad: minimalPolicy + "  allowed_tool: [x]\n"} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		args        []string
		stdin       string
		wantCode    int
		wantStderr  string
		wantStdout  string
		wantStdout2 string
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
			for _, want := range []string{tc.wantStdout, tc.wantStdout2} {
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
