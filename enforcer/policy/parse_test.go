package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const referencePolicy = `# A policy as the AIP reference writes it.
apiVersion: aip.io/v1alpha2
kind: AgentPolicy
metadata:
  name: reference
  version: "1.0.0"
  owner: security@example.com
spec:
  mode: enforce
  allowed_tools: [read_file, list_directory]
  allowed_methods: [initialize, tools/call, tools/list]
  denied_methods: [resources/read]
  strict_args_default: false
  protected_paths: ["~/.ssh", "~/.aws/credentials", ".env"]
  tool_rules:
    - tool: write_file
      action: ask
    - tool: exec_command
      action: block
    - tool: fetch_url
      allow_args:
        url: "^https://github\\.com/"
      strict_args: true
      rate_limit: 10/minute
      schema_hash: sha256:0000000000000000000000000000000000000000000000000000000000000000
  dlp:
    enabled: true
    scan_requests: true
    on_request_match: block
    detect_encoding: true
    filter_stderr: true
    max_scan_size: 1MB
    patterns:
      - name: AWS Key
        regex: "AKIA[0-9A-Z]{16}"
        scope: all
  identity:
    enabled: true
    token_ttl: 5m
    rotation_interval: 4m
    require_token: true
    session_binding: strict
    nonce_window: 5m
    audience: https://mcp.example.com
    nonce_storage: {type: redis, address: "redis://localhost:6379", key_prefix: "aip:"}
    keys: {signing_algorithm: ES256, key_source: generate}
  server:
    enabled: false
    listen: 127.0.0.1:9443
    failover_mode: fail_closed
    timeout: 5s
    tls: {cert: /etc/aip/cert.pem, key: /etc/aip/key.pem}
    endpoints: {validate: /v1/validate, health: /health, metrics: /metrics}
`

func TestParseReference(t *testing.T) {
	doc := mustParse(t, referencePolicy)
	if got := doc.Spec.ToolRules[2].AllowArgs["url"]; got != `^https://github\.com/` {
		t.Errorf("allow_args url = %q", got)
	}
	if doc.Spec.DLP == nil || len(doc.Spec.DLP.Patterns) != 1 || !doc.Spec.DLP.ScanRequests {
		t.Errorf("dlp = %+v", doc.Spec.DLP)
	}
	if len(doc.Hash()) != 64 {
		t.Errorf("hash = %q", doc.Hash())
	}
	for _, v := range []string{"aip.io/v1alpha1", "aip.io/v1alpha3"} {
		mustParse(t, strings.Replace(referencePolicy, "aip.io/v1alpha2", v, 1))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each must appear in the error
	}{
		{"unknown field with path", header + "spec:\n  tool_rules:\n    - tool: a\n    - tool: b\n    - tool: c\n      acton: block\n",
			[]string{"spec.tool_rules[2].acton: unknown field"}},
		{"unknown apiVersion", strings.Replace(header, "v1alpha2", "v9", 1), []string{`apiVersion: unknown version "aip.io/v9"`}},
		{"missing apiVersion", "kind: AgentPolicy\nmetadata: {name: x}\n", []string{"apiVersion: required"}},
		{"wrong kind", strings.Replace(header, "AgentPolicy", "Pod", 1), []string{`kind: must be "AgentPolicy"`}},
		{"missing name", "apiVersion: aip.io/v1alpha1\nkind: AgentPolicy\n", []string{"metadata.name: required"}},
		{"unknown top-level", header + "extra: 1\n", []string{"extra: unknown field"}},
		{"all problems at once", header + "spec:\n  mode: audit\n  bogus: 1\n  tool_rules:\n    - tool: x\n      action: deny\n      rate_limit: 5/day\n",
			[]string{"spec.bogus: unknown field"}},
		{"value problems at once", header + "spec:\n  mode: audit\n  tool_rules:\n    - tool: x\n      action: deny\n      rate_limit: 5/day\n      allow_args: {p: \"(\"}\n      schema_hash: md5:abc\n",
			[]string{"spec.mode: must be", "spec.tool_rules[0].action: must be allow, block or ask", "spec.tool_rules[0].rate_limit:",
				"spec.tool_rules[0].allow_args.p: invalid RE2 regex", "spec.tool_rules[0].schema_hash:"}},
		{"list expected", header + "spec:\n  allowed_tools: read_file\n", []string{"spec.allowed_tools: must be a list"}},
		{"bool expected", header + "spec:\n  strict_args_default: \"yes\"\n", []string{"spec.strict_args_default: must be true or false"}},
		{"string expected", header + "spec:\n  mode: [a]\n", []string{"spec.mode: must be a string"}},
		{"mapping expected", header + "spec: 3\n", []string{"spec: must be a mapping"}},
		{"duplicate key", header + "spec:\n  mode: monitor\n  mode: enforce\n", []string{"spec.mode: duplicate key"}},
		{"duplicate rule", header + "spec:\n  tool_rules:\n    - tool: Exec\n    - tool: exec\n", []string{"spec.tool_rules[1].tool: duplicate rule"}},
		{"empty tool", header + "spec:\n  tool_rules:\n    - action: block\n", []string{"spec.tool_rules[0].tool: required"}},
		{"merge key", header + "base: &b {mode: monitor}\nspec:\n  <<: *b\n", []string{"base: unknown field", "merge keys"}},
		{"bad signature", strings.Replace(header, "name: test", "name: test\n  signature: rsa:abc", 1), []string{"metadata.signature: must be ed25519:"}},
		{"dlp problems", header + "spec:\n  dlp:\n    on_request_match: drop\n    patterns:\n      - {name: a, regex: \"[\", scope: both}\n      - {name: a, regex: x}\n",
			[]string{"spec.dlp.on_request_match", "spec.dlp.patterns[0].regex", "spec.dlp.patterns[0].scope", "spec.dlp.patterns[1].name: duplicate"}},
		{"dlp regex matching the empty string", header + "spec:\n  dlp:\n    patterns:\n      - {name: a, regex: \"x*\"}\n",
			[]string{"spec.dlp.patterns[0].regex: matches the empty string"}},
		{"dlp unknown built-in", header + "spec:\n  dlp:\n    patterns:\n      - {name: no_such_builtin}\n",
			[]string{`spec.dlp.patterns[0].regex: required ("no_such_builtin" is not a built-in pattern`}},
		{"not a mapping", "- a\n- b\n", []string{"policy must be a mapping"}},
		{"empty", "", []string{"empty document"}},
		{"comments only", "# nothing\n", []string{"empty document"}},
		{"two documents", header + "---\n" + header, []string{"more than one YAML document"}},
		{"malformed", "spec: [\n", []string{"invalid policy"}},
		{"tab indentation", "spec:\n\tmode: x\n", []string{"invalid policy"}},
		{"alias bomb", aliasBomb(header + "spec:\n  allowed_tools: "), []string{"invalid policy"}},
		{"deep nesting", header + "spec:\n  mode: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n", []string{"invalid policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

// aliasBomb returns prefix followed by a billion-laughs list: 10^9 nodes
// once aliases are expanded.
func aliasBomb(prefix string) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String() + prefix + "*a8\n"
}

func TestParseDLPBuiltin(t *testing.T) {
	doc := mustParse(t, header+"spec:\n  dlp:\n    patterns:\n      - {name: aws_access_key}\n      - {name: jwt, scope: response}\n")
	if got := doc.Spec.DLP.Patterns[0]; got.Name != "aws_access_key" || got.Regex != "" {
		t.Errorf("pattern = %+v", got)
	}
}

func TestParseTooLarge(t *testing.T) {
	big := header + "# " + strings.Repeat("x", MaxSize) + "\n"
	if _, err := Parse([]byte(big)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse = %v, want ErrTooLarge", err)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadFile = %v, want ErrTooLarge", err)
	}
}

func TestParseAliasesWithinBudget(t *testing.T) {
	doc := mustParse(t, header+"spec:\n  allowed_tools: &tools [read_file]\n  tool_rules:\n    - tool: write_file\n      allow_args: &args {path: \"^/tmp/\"}\n    - tool: edit_file\n      allow_args: *args\n")
	if got := doc.Spec.ToolRules[1].AllowArgs["path"]; got != "^/tmp/" {
		t.Errorf("aliased allow_args = %q", got)
	}
}

func TestParseTestdata(t *testing.T) {
	for _, dir := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata", "policies", dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no testdata in %s: %v", dir, err)
		}
		for _, f := range files {
			t.Run(dir+"/"+filepath.Base(f), func(t *testing.T) {
				_, err := ReadFile(f)
				if (err == nil) != (dir == "valid") {
					t.Errorf("ReadFile(%s) = %v", f, err)
				}
			})
		}
	}
}
