package aipcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/internal/cli"
)

const examples = "../../../examples/policies/"

func runAIP(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}
	code := cli.Main(context.Background(), Root(), env, args)
	return code, out.String() + errOut.String()
}

func TestPolicyCommands(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: aip.io/v1alpha1\nkind: AgentPolicy\nmetadata: {name: x}\nspec:\n  tool_rules:\n    - {tool: a, acton: block}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	warn := filepath.Join(dir, "warn.yaml")
	if err := os.WriteFile(warn, []byte("apiVersion: aip.io/v1alpha1\nkind: AgentPolicy\nmetadata: {name: x}\nspec:\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - {tool: a, allow_args: {p: \"x\"}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	failing := filepath.Join(dir, "failing_test.yaml")
	if err := os.WriteFile(failing, []byte("policy: "+filepath.Join(mustAbs(t, examples), "git.yaml")+"\ntests:\n  - {name: wrong, request: {method: tools/call, params: {name: git_push}}, expect: {decision: allow}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"lint ok with warnings", "", []string{"policy", "lint", warn}, 0, "warning: spec.tool_rules[0].allow_args.p: pattern"},
		{"lint ok", "", []string{"policy", "lint", examples + "filesystem.yaml"}, 0, "filesystem.yaml: ok"},
		{"lint invalid", "", []string{"policy", "lint", bad}, 1, "spec.tool_rules[0].acton: unknown field"},
		{"lint usage", "", []string{"policy", "lint"}, 2, "want exactly one FILE"},
		{"hash", "", []string{"policy", "hash", examples + "git.yaml"}, 0, ""},
		{"eval deny", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"git_push","arguments":{}}}`,
			[]string{"policy", "eval", "--policy", examples + "git.yaml"}, 1, `"code": -32001`},
		{"eval ask", `{"method":"tools/call","params":{"name":"edit_file","arguments":{"path":"/home/agent/project/a","edits":[]}}}`,
			[]string{"policy", "eval", "--home", "/home/agent", "--policy", examples + "filesystem.yaml"}, 3, `"decision": "ask"`},
		{"eval unreadable policy", "{}", []string{"policy", "eval", "--policy", bad}, 2, "unknown field"},
		{"eval allow", `{"method":"tools/call","params":{"name":"git_log","arguments":{}}}`,
			[]string{"policy", "eval", "--policy", examples + "git.yaml", "--request", "-"}, 0, `"decision": "allow"`},
		{"eval needs policy", "", []string{"policy", "eval"}, 2, "--policy is required"},
		{"eval empty method", `{"jsonrpc":"2.0","id":1,"method":""}`,
			[]string{"policy", "eval", "--policy", examples + "git.yaml"}, 1, `"code": -32006`},
		{"eval response is not decided", `{"jsonrpc":"2.0","id":1,"result":{}}`,
			[]string{"policy", "eval", "--policy", examples + "git.yaml"}, 2, "no method member"},
		{"test examples", "", []string{"policy", "test", examples + "git_test.yaml", examples + "shell_test.yaml"}, 0, " passed, 0 failed"},
		{"test failure", "", []string{"policy", "test", failing}, 1, "FAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runAIP(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d (want %d), output:\n%s\nwant it to contain %q", code, tt.code, out, tt.want)
			}
		})
	}
}

func TestPolicyEvalJSON(t *testing.T) {
	code, out := runAIP(t, `{"method":"resources/read","params":{}}`, "policy", "eval", "--policy", examples+"git.yaml")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var d struct {
		Decision string `json:"decision"`
		Code     int    `json:"code"`
		Reason   string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if d.Decision != "deny" || d.Code != -32006 || d.Reason == "" {
		t.Errorf("decision = %+v", d)
	}
}

func TestPolicySigning(t *testing.T) {
	dir := t.TempDir()
	key, pub, otherKey, otherPub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub"), filepath.Join(dir, "o.pem"), filepath.Join(dir, "o.pub")
	for _, kp := range [][2]string{{key, pub}, {otherKey, otherPub}} {
		if code, out := runAIP(t, "", "policy", "keygen", "--key", kp[0], "--pub", kp[1]); code != 0 {
			t.Fatalf("keygen: exit %d: %s", code, out)
		}
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v %v", fi, err)
	}
	src, err := os.ReadFile(examples + "git.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "git.yaml")
	if err := os.WriteFile(pol, src, 0o640); err != nil {
		t.Fatal(err)
	}
	testFile := filepath.Join(dir, "git_test.yaml")
	if err := os.WriteFile(testFile, []byte("policy: git.yaml\ntests:\n  - {name: log, request: {method: tools/call, params: {name: git_log}}, expect: {decision: allow}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	call := `{"method":"tools/call","params":{"name":"git_log","arguments":{}}}`
	// Before signing, a trusted key refuses the policy.
	steps := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"unsigned fails lint", "", []string{"policy", "lint", "--trusted-key", pub, pol}, 1, "error: metadata.signature: policy signature invalid"},
		{"unsigned is -32010 in eval", call, []string{"policy", "eval", "--trusted-key", pub, "--policy", pol}, 1, `"code": -32010`},
		{"unsigned is -32010 in test", "", []string{"policy", "test", "--trusted-key", pub, testFile}, 1, "want allow"},
		{"sign prints", "", []string{"policy", "sign", "--key", key, pol}, 0, "signature: \"ed25519:"},
		{"sign --write", "", []string{"policy", "sign", "--key", key, "--write", pol}, 0, ""},
		{"signed passes lint", "", []string{"policy", "lint", "--trusted-key", pub, pol}, 0, "git.yaml: ok"},
		{"signed allowed in eval", call, []string{"policy", "eval", "--trusted-key", pub, "--policy", pol}, 0, `"decision": "allow"`},
		{"signed passes test", "", []string{"policy", "test", "--trusted-key", pub, testFile}, 0, "1 passed, 0 failed"},
		{"other key fails lint", "", []string{"policy", "lint", "--trusted-key", otherPub, pol}, 1, "does not match"},
		{"other key is -32010 in eval", call, []string{"policy", "eval", "--trusted-key", otherPub, "--policy", pol}, 1, `"code": -32010`},
		{"private key is not a trusted key", "", []string{"policy", "lint", "--trusted-key", key, pol}, 1, "no PEM \"PUBLIC KEY\" block"},
		{"keygen never overwrites", "", []string{"policy", "keygen", "--key", key, "--pub", filepath.Join(dir, "x.pub")}, 1, "file exists"},
		{"sign needs a key", "", []string{"policy", "sign", pol}, 2, "--key"},
	}
	for _, tt := range steps {
		code, out := runAIP(t, tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d (want %d), output:\n%s\nwant it to contain %q", tt.name, code, tt.code, out, tt.want)
		}
	}
	if fi, err := os.Stat(pol); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("sign --write changed the mode: %v %v", fi, err)
	}
	if code, out := runAIP(t, "", "policy", "hash", pol); code != 0 || !strings.Contains(out, hashOf(t, examples+"git.yaml")) {
		t.Errorf("signing changed the hash: %s", out)
	}
}

func hashOf(t *testing.T, file string) string {
	t.Helper()
	code, out := runAIP(t, "", "policy", "hash", file)
	if code != 0 {
		t.Fatalf("hash %s: %s", file, out)
	}
	return strings.TrimSpace(out)
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
