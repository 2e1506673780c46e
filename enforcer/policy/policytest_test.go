package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplePolicies runs every examples/policies/*_test.yaml and lints the
// example policies, so CI covers them.
func TestExamplePolicies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "policies", "*_test.yaml"))
	if err != nil || len(files) < 4 {
		t.Fatalf("example test files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			results, err := RunTestFile(context.Background(), f, TestOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(results) == 0 {
				t.Fatal("no test cases")
			}
			for _, r := range results {
				if !r.Passed() {
					t.Errorf("%s: %s", r.Name, strings.Join(r.Failures, "; "))
				}
			}
		})
	}
}

func TestRunTestFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("p.yaml", header+"spec:\n  allowed_tools: [a]\n  tool_rules:\n    - {tool: r, rate_limit: 2/hour}\n")
	tf := write("p_test.yaml", `policy: p.yaml
tests:
  - {name: pass, request: {method: tools/call, params: {name: a}}, expect: {decision: allow, code: 0}}
  - {name: wrong decision, request: {method: tools/call, params: {name: b}}, expect: {decision: allow}}
  - {name: wrong code, request: {method: tools/call, params: {name: b}}, expect: {decision: deny, code: -32002}}
  - {name: repeat, repeat: 3, request: {method: tools/call, params: {name: r}}, expect: {decision: deny, code: -32002}}
  - {name: fresh limiter per case, request: {method: tools/call, params: {name: r}}, expect: {decision: allow}}
`)
	results, err := RunTestFile(context.Background(), tf, TestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"pass": true, "wrong decision": false, "wrong code": false, "repeat": true, "fresh limiter per case": true}
	for _, r := range results {
		if r.Passed() != want[r.Name] {
			t.Errorf("%s: passed=%v failures=%v", r.Name, r.Passed(), r.Failures)
		}
	}
	if len(results) != len(want) {
		t.Errorf("%d results", len(results))
	}
}

func TestParseTestFileErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"missing policy", "tests: []\n", "policy: required"},
		{"unknown field", "policy: p\ntests:\n  - {name: a, expect: {decision: allow, cod: 1}}\n", "tests[0].expect.cod: unknown field"},
		{"repeat zero", "policy: p\ntests:\n  - {name: a, repeat: 0, expect: {decision: allow}}\n", "tests[0].repeat: must be between 1 and 10000, got 0"},
		{"repeat too many", "policy: p\ntests:\n  - {name: a, repeat: 10001, expect: {decision: allow}}\n", "tests[0].repeat: must be between 1 and 10000"},
		{"bad decision", "policy: p\ntests:\n  - {name: a, expect: {decision: maybe}}\n", "tests[0].expect.decision"},
		{"alias bomb in params", aliasBomb("policy: p\ntests:\n  - name: a\n    expect: {decision: allow}\n    request:\n      params: "), "document too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTestFile([]byte(tt.src))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTestFile = %v, want %q", err, tt.want)
			}
		})
	}
}
