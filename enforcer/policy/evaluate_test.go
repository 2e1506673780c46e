package policy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

const evalPolicy = header + `spec:
  allowed_tools: [read_file, list_directory, limited_listed, blocked_listed]
  protected_paths: ["~/.ssh"]
  tool_rules:
    - tool: exec_command
      action: block
    - tool: blocked_listed
      action: block
    - tool: write_file
      action: ask
    - tool: fetch
      allow_args:
        url: "^https://example\\.com/"
      strict_args: true
    - tool: search
      allow_args:
        query: "cat"
        count: "^(1|2|3)$"
        exact: "^true$"
        tags: "^\\[\"a\",\"b\"\\]$"
        opt: "^$"
    - tool: limited_listed
      rate_limit: 2/minute
    - tool: edit
      action: allow
`

func call(name string, args map[string]any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"name": name, "arguments": args})
	return b
}

func TestEvaluateToolsCall(t *testing.T) {
	p := mustCompile(t, evalPolicy, Options{})
	tests := []struct {
		name   string
		params json.RawMessage
		action Action
		code   codes.Code
		rule   string
		arg    string
	}{
		{"allowlisted", call("read_file", map[string]any{"path": "/tmp/a"}), ActionAllow, 0, "", ""},
		{"normalized name", call("ＲＥＡＤ_FILE\u200b", nil), ActionAllow, 0, "", ""},
		{"allow rule without allowlist", call("edit", nil), ActionAllow, 0, "", ""},
		{"not allowlisted", call("delete_file", nil), ActionDeny, codes.Forbidden, RuleAllowlist, ""},
		{"block rule", call("exec_command", nil), ActionDeny, codes.Forbidden, RuleToolBlock, ""},
		{"block beats allowlist", call("blocked_listed", nil), ActionDeny, codes.Forbidden, RuleToolBlock, ""},
		{"ask", call("write_file", map[string]any{"path": "/tmp/x"}), ActionAsk, 0, RuleToolAsk, ""},
		{"protected path before block", call("exec_command", map[string]any{"cmd": "cat ~/.ssh/id_rsa"}), ActionDeny, codes.ProtectedPath, RuleProtectedPath, "cmd"},
		{"protected path before ask", call("write_file", map[string]any{"path": "/home/agent/.ssh/authorized_keys"}), ActionDeny, codes.ProtectedPath, RuleProtectedPath, "path"},
		{"args match", call("fetch", map[string]any{"url": "https://example.com/x"}), ActionAllow, 0, "", ""},
		{"args mismatch", call("fetch", map[string]any{"url": "https://evil.com/?https://example.com/"}), ActionDeny, codes.Forbidden, RuleAllowArgs, "url"},
		{"args missing", call("fetch", map[string]any{}), ActionDeny, codes.Forbidden, RuleAllowArgs, "url"},
		{"strict extra arg", call("fetch", map[string]any{"url": "https://example.com/", "b": 1, "a": 2}), ActionDeny, codes.Forbidden, RuleStrictArgs, "a"},
		{"search not anchored, typed values", call("search", map[string]any{"query": "concatenate", "count": 2, "exact": true, "tags": []any{"a", "b"}, "opt": nil, "extra": 1}), ActionAllow, 0, "", ""},
		{"number in decimal", call("search", map[string]any{"query": "cat", "count": 2.5, "exact": true, "tags": []any{"a", "b"}, "opt": nil}), ActionDeny, codes.Forbidden, RuleAllowArgs, "count"},
		{"boolean as text", call("search", map[string]any{"query": "cat", "count": 1, "exact": false, "tags": []any{"a", "b"}, "opt": nil}), ActionDeny, codes.Forbidden, RuleAllowArgs, "exact"},
		{"null as empty", call("search", map[string]any{"query": "cat", "count": 1, "exact": true, "tags": []any{"a", "b"}, "opt": "x"}), ActionDeny, codes.Forbidden, RuleAllowArgs, "opt"},
		{"missing name", json.RawMessage(`{"arguments":{}}`), ActionDeny, codes.InvalidParams, RuleParams, ""},
		{"arguments not an object", json.RawMessage(`{"name":"read_file","arguments":[1]}`), ActionDeny, codes.InvalidParams, RuleParams, ""},
		{"params not json", json.RawMessage(`{`), ActionDeny, codes.InvalidParams, RuleParams, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(context.Background(), "tools/call", tt.params)
			if d.Action != tt.action || d.Code != tt.code || d.FailedRule != tt.rule || d.FailedArg != tt.arg {
				t.Fatalf("got %v code=%d rule=%q arg=%q reason=%q; want %v %d %q %q",
					d.Action, d.Code, d.FailedRule, d.FailedArg, d.Reason, tt.action, tt.code, tt.rule, tt.arg)
			}
			if d.Action == ActionDeny {
				if d.Message != d.Code.Message() || d.Reason == "" || d.AuditDecision != AuditBlock || !d.Violation {
					t.Errorf("denial incomplete: %+v", d)
				}
				if tt.arg != "" && d.Data["argument"] != tt.arg {
					t.Errorf("data.argument = %v, want %q", d.Data["argument"], tt.arg)
				}
				if d.Code == codes.Forbidden && (d.Data["tool"] == nil || d.Data["reason"] == nil) {
					t.Errorf("-32001 data lacks tool/reason: %v", d.Data)
				}
			}
		})
	}
}

func TestEvaluateMethodFirst(t *testing.T) {
	p := mustCompile(t, header+"spec:\n  allowed_tools: [a]\n  denied_methods: [tools/call]\n", Options{})
	if d := p.Evaluate(context.Background(), "tools/call", call("a", nil)); d.Code != codes.MethodNotAllowed {
		t.Errorf("got %+v, want -32006", d)
	}
	if d := p.Evaluate(context.Background(), "tools/list", nil); d.Action != ActionAllow {
		t.Errorf("tools/list: %+v", d)
	}
}

func TestMonitorMode(t *testing.T) {
	p := mustCompile(t, strings.Replace(evalPolicy, "spec:\n", "spec:\n  mode: monitor\n", 1), Options{})
	tests := []struct {
		name   string
		params json.RawMessage
		action Action
		audit  string
	}{
		{"not allowlisted is forwarded", call("delete_file", nil), ActionAllowMonitor, AuditAllowMonitor},
		{"block is forwarded", call("exec_command", nil), ActionAllowMonitor, AuditAllowMonitor},
		{"bad args forwarded", call("fetch", map[string]any{"url": "x"}), ActionAllowMonitor, AuditAllowMonitor},
		{"protected path still enforced", call("read_file", map[string]any{"path": "~/.ssh/id_rsa"}), ActionDeny, AuditBlock},
		{"allowed stays allowed", call("read_file", nil), ActionAllow, AuditAllow},
		{"ask still asks", call("write_file", nil), ActionAsk, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(context.Background(), "tools/call", tt.params)
			if d.Action != tt.action || d.AuditDecision != tt.audit {
				t.Errorf("got %v/%s, want %v/%s", d.Action, d.AuditDecision, tt.action, tt.audit)
			}
			if tt.action == ActionAllowMonitor && (!d.Violation || d.Code == 0 || !d.Action.Forward()) {
				t.Errorf("monitor decision should forward and keep the would-be code: %+v", d)
			}
		})
	}
	// Rate limits are enforced in monitor mode too.
	for i := 0; i < 2; i++ {
		p.Evaluate(context.Background(), "tools/call", call("limited_listed", nil))
	}
	if d := p.Evaluate(context.Background(), "tools/call", call("limited_listed", nil)); d.Action != ActionDeny || d.AuditDecision != AuditRateLimited {
		t.Errorf("rate limit in monitor mode: %+v", d)
	}
}

func TestMonitorModeMethodViolation(t *testing.T) {
	for _, methods := range []string{"  allowed_methods: [initialize, tools/list]\n", "  denied_methods: [tools/call]\n"} {
		p := mustCompile(t, strings.Replace(evalPolicy, "spec:\n", "spec:\n  mode: monitor\n"+methods, 1), Options{})
		tests := []struct {
			name   string
			params json.RawMessage
			action Action
			code   codes.Code
			rule   string
		}{
			{"protected path still enforced", call("read_file", map[string]any{"path": "~/.ssh/id_rsa"}), ActionDeny, codes.ProtectedPath, RuleProtectedPath},
			{"ask still asks", call("write_file", nil), ActionAsk, 0, RuleToolAsk},
			{"method violation forwarded", call("read_file", nil), ActionAllowMonitor, codes.MethodNotAllowed, RuleMethod},
			{"malformed params refused", json.RawMessage(`{`), ActionDeny, codes.InvalidParams, RuleParams},
		}
		for _, tt := range tests {
			t.Run(methods+tt.name, func(t *testing.T) {
				d := p.Evaluate(context.Background(), "tools/call", tt.params)
				if d.Action != tt.action || d.Code != tt.code || d.FailedRule != tt.rule {
					t.Errorf("got %v code=%d rule=%q (%s); want %v %d %q", d.Action, d.Code, d.FailedRule, d.Reason, tt.action, tt.code, tt.rule)
				}
			})
		}
		for i := 0; i < 2; i++ {
			p.Evaluate(context.Background(), "tools/call", call("limited_listed", nil))
		}
		if d := p.Evaluate(context.Background(), "tools/call", call("limited_listed", nil)); d.Action != ActionDeny || d.AuditDecision != AuditRateLimited {
			t.Errorf("%s: rate limit in monitor mode with tools/call not allowed: %+v", methods, d)
		}
		if d := p.Evaluate(context.Background(), "tools/call", call("read_file", nil)); d.Tool != "read_file" || d.AuditDecision != AuditAllowMonitor {
			t.Errorf("%s: forwarded method violation should name the tool: %+v", methods, d)
		}
	}
}

func TestDenialReasons(t *testing.T) {
	p := mustCompile(t, strings.Replace(evalPolicy, "  tool_rules:", "  strict_args_default: true\n  tool_rules:\n    - tool: lax\n      allow_args: {a: \"^x$\"}", 1), Options{})
	tests := []struct {
		name   string
		method string
		params json.RawMessage
		want   []string // substrings of Reason, which data.reason repeats
		secret string   // an argument value that must not appear
	}{
		{"block names the rule", "tools/call", call("exec_command", nil),
			[]string{`tool "exec_command" is blocked by spec.tool_rules[1] (action: block) in policy "test"`, "change the rule's action"}, ""},
		{"not allowlisted", "tools/call", call("nope", nil),
			[]string{`tool "nope" is not allowed by policy "test"`, "add it to spec.allowed_tools"}, ""},
		{"protected path names the entry", "tools/call", call("read_file", map[string]any{"path": "~/.ssh/id_rsa"}),
			[]string{`argument "path" refers to protected path ~/.ssh (spec.protected_paths[0])`}, "id_rsa"},
		{"allow_args mismatch names pattern, not value", "tools/call", call("fetch", map[string]any{"url": "https://evil.test/TOKEN123"}),
			[]string{`argument "url" of tool "fetch" does not match spec.tool_rules[4].allow_args.url ("^https://example\\.com/")`}, "TOKEN123"},
		{"allow_args missing", "tools/call", call("fetch", nil),
			[]string{`argument "url" of tool "fetch" is required by spec.tool_rules[4].allow_args.url`, "pass it"}, ""},
		{"strict from the rule", "tools/call", call("fetch", map[string]any{"url": "https://example.com/", "zz": "SECRET9"}),
			[]string{`argument "zz" of tool "fetch" is not listed in spec.tool_rules[4].allow_args`, "spec.tool_rules[4].strict_args is true"}, "SECRET9"},
		{"strict from the default", "tools/call", call("lax", map[string]any{"a": "x", "b": 1}),
			[]string{`argument "b"`, "spec.strict_args_default is true"}, ""},
		{"method not in default list", "resources/read", nil,
			[]string{`method "resources/read" is not among the default methods of policy "test"`, "set spec.allowed_methods"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Evaluate(context.Background(), tt.method, tt.params)
			if d.Action != ActionDeny {
				t.Fatalf("want a denial, got %+v", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(d.Reason, w) {
					t.Errorf("reason %q\nlacks %q", d.Reason, w)
				}
			}
			if d.Data["reason"] != d.Reason {
				t.Errorf("data.reason = %q, want the reason %q", d.Data["reason"], d.Reason)
			}
			if tt.secret != "" && strings.Contains(d.Reason, tt.secret) {
				t.Errorf("reason leaks an argument value: %q", d.Reason)
			}
		})
	}
	rl := mustCompile(t, evalPolicy, Options{})
	var d Decision
	for i := 0; i < 3; i++ {
		d = rl.EvaluateToolCall(context.Background(), "limited_listed", nil)
	}
	if !strings.Contains(d.Reason, `limited to 2/minute by spec.tool_rules[5].rate_limit of policy "test"`) || d.Data["reason"] != d.Reason {
		t.Errorf("rate limit reason = %q, data = %v", d.Reason, d.Data)
	}
	denied := mustCompile(t, header+"spec:\n  allowed_methods: [\"*\"]\n  denied_methods: [ping, resources/read]\n", Options{})
	if d := denied.CheckMethod("Resources/Read"); !strings.Contains(d.Reason, `"resources/read" is listed in spec.denied_methods[1]`) || d.Data["method"] != "Resources/Read" {
		t.Errorf("denied method: %+v", d)
	}
}

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, Limit) (bool, error) {
	return false, errors.New("redis down")
}

func TestRateLimitInEvaluation(t *testing.T) {
	p := mustCompile(t, evalPolicy, Options{})
	for i := 0; i < 2; i++ {
		if d := p.EvaluateToolCall(context.Background(), "limited_listed", nil); d.Action != ActionAllow {
			t.Fatalf("call %d: %+v", i, d)
		}
	}
	d := p.EvaluateToolCall(context.Background(), "Limited_Listed", nil)
	if d.Code != codes.RateLimited || d.Message != "Rate limit exceeded" || d.AuditDecision != AuditRateLimited {
		t.Errorf("third call: %+v", d)
	}
	if d := p.EvaluateToolCall(context.Background(), "read_file", nil); d.Action != ActionAllow {
		t.Errorf("other tools are not limited: %+v", d)
	}

	closed := mustCompile(t, evalPolicy, Options{RateLimiter: failingLimiter{}})
	if d := closed.EvaluateToolCall(context.Background(), "limited_listed", nil); d.Action != ActionDeny || d.Code != codes.RateLimited {
		t.Errorf("limiter error must deny: %+v", d)
	}
	if strings.Contains(closed.EvaluateToolCall(context.Background(), "limited_listed", nil).Reason, "redis") {
		t.Error("reason leaks the limiter's error")
	}
}

func TestAfterApproval(t *testing.T) {
	p := mustCompile(t, evalPolicy, Options{})
	ask := p.EvaluateToolCall(context.Background(), "write_file", nil)
	tests := []struct {
		outcome ApprovalOutcome
		action  Action
		code    codes.Code
	}{
		{Approved, ActionAllow, 0},
		{Denied, ActionDeny, codes.UserDenied},
		{TimedOut, ActionDeny, codes.ApprovalTimeout},
	}
	for _, tt := range tests {
		d := ask.AfterApproval(tt.outcome)
		if d.Action != tt.action || d.Code != tt.code || d.Tool != "write_file" {
			t.Errorf("outcome %d: %+v", tt.outcome, d)
		}
	}
	allow := p.EvaluateToolCall(context.Background(), "read_file", nil)
	if got := allow.AfterApproval(Denied); got.Action != ActionAllow {
		t.Errorf("AfterApproval changed a non-ask decision: %+v", got)
	}
}

func TestArgString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"s", "s"}, {nil, ""}, {true, "true"}, {false, "false"},
		{float64(3), "3"}, {1e21, "1000000000000000000000"}, {2.5, "2.5"},
		{json.Number("12345678901234567890"), "12345678901234567890"}, {json.Number("1e3"), "1000"},
		{[]any{"a", 1.0}, `["a",1]`}, {map[string]any{"b": 1.0, "a": "x"}, `{"a":"x","b":1}`},
		// Nested values read as they do on their own, and nothing is HTML-escaped.
		{[]any{"a<b&c>"}, `["a<b&c>"]`},
		{map[string]any{"k": "<script>"}, `{"k":"<script>"}`},
		{[]any{1e21, 2.50}, `[1000000000000000000000,2.5]`},
		{[]any{json.Number("1e3"), json.Number("10"), json.Number("1.50")}, `[1000,10,1.5]`},
		{[]any{"q\"\\\n\u0001\u2028é"}, `["q\"\\\n\u0001` + "\u2028é" + `"]`},
		{map[string]any{"\U0001F600": 1.0, "\uFB01": 2.0}, "{\"\U0001F600\":1,\"\uFB01\":2}"}, // UTF-16 order
		{[]string{"x<y"}, `["x<y"]`},
	}
	for _, tt := range tests {
		if got := argString(tt.in); got != tt.want {
			t.Errorf("argString(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
