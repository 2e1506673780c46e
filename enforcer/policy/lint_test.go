package policy

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string // substring of one warning; "" means no warnings
	}{
		{"clean", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - tool: b\n      allow_args: {p: \"^x$\"}\n", ""},
		{"unanchored", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - tool: b\n      allow_args: {p: \"^x\"}\n", "spec.tool_rules[0].allow_args.p: pattern"},
		{"anchored after flags", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - tool: b\n      allow_args: {p: \"(?s)^.*$\", q: \"(?is)^\\\\s*select\\\\s[^;]*;?\\\\s*$\", r: \"^(a|b)$\", s: \"^a$|^b$\", u: \"\\\\Ax\\\\z\"}\n", ""},
		{"multi-line is not anchored", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - tool: b\n      allow_args: {p: \"(?m)^x$\"}\n", "allow_args.p: pattern"},
		{"one branch unanchored", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - tool: b\n      allow_args: {p: \"^a$|b\"}\n", "allow_args.p: pattern"},
		{"rate limit on a blocked tool is fine", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - {tool: b, action: block, rate_limit: 1/s}\n", ""},
		{"allow_args on a blocked tool", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - {tool: b, action: block, allow_args: {p: \"^x$\"}}\n", "allow_args and strict_args of a blocked tool have no effect"},
		{"monitor", "  mode: monitor\n  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n", "spec.mode: monitor"},
		{"empty allowlist", "  protected_paths: [~/.ssh]\n", "every tools/call is denied"},
		{"blocked but listed", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - {tool: A, action: block}\n", "the block wins"},
		{"ask with args", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  tool_rules:\n    - {tool: b, action: ask, allow_args: {p: \"^x$\"}}\n", "not checked for ask rules"},
		{"strict without args", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  strict_args_default: true\n  tool_rules:\n    - {tool: b}\n", "every call with arguments is denied"},
		{"duplicate tool", "  allowed_tools: [a, A]\n  protected_paths: [~/.ssh]\n", "duplicate of spec.allowed_tools[0]"},
		{"star methods", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  allowed_methods: [\"*\"]\n", `"*" allows every method`},
		{"no initialize", "  allowed_tools: [a]\n  protected_paths: [~/.ssh]\n  allowed_methods: [tools/call]\n", "initialize is not allowed"},
		{"no protected paths", "  allowed_tools: [a]\n", "spec.protected_paths: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := Lint(mustParse(t, header+"spec:\n"+tt.spec))
			if tt.want == "" {
				if len(ws) != 0 {
					t.Errorf("unexpected warnings: %v", ws)
				}
				return
			}
			for _, w := range ws {
				if strings.Contains(w.String(), tt.want) {
					return
				}
			}
			t.Errorf("no warning containing %q in %v", tt.want, ws)
		})
	}
}
