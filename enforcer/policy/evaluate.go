package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aip-project/aip/enforcer/codes"
)

const methodToolsCall = "tools/call"

// Evaluate decides one client→server message: the method check, then for
// tools/call the tool rules. params is the raw JSON-RPC params. An empty
// method is a response and passes.
func (p *Policy) Evaluate(ctx context.Context, method string, params json.RawMessage) Decision {
	d := p.CheckMethod(method)
	if d.Action != ActionAllow || Normalize(method) != methodToolsCall {
		return d
	}
	var call struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	if err := dec.Decode(&call); err != nil {
		return deny(codes.InvalidParams, RuleParams, "",
			"tools/call params must be an object {name, arguments} with arguments an object",
			map[string]any{"reason": "malformed tools/call params"})
	}
	return p.EvaluateToolCall(ctx, call.Name, call.Arguments)
}

// EvaluateToolCall decides a tools/call, in the AIP order: rate limit →
// protected paths → tool_rules (block, ask) → allowlist → allow_args →
// strict_args → allow. Argument numbers may be float64 or json.Number.
func (p *Policy) EvaluateToolCall(ctx context.Context, name string, args map[string]any) Decision {
	tool := Normalize(name)
	if tool == "" {
		return deny(codes.InvalidParams, RuleParams, "", "tools/call needs a tool name in params.name",
			map[string]any{"reason": "missing tool name"})
	}
	r := p.rules[tool]

	if r != nil && r.limit.N > 0 {
		ok, err := p.limiter.Allow(ctx, tool, r.limit)
		if err != nil {
			return deny(codes.RateLimited, RuleRateLimit, tool,
				"the rate limiter for "+quote(tool)+" is unavailable, so the call was refused (fail closed); retry later",
				map[string]any{"tool": tool, "reason": "rate limiter unavailable"})
		}
		if !ok {
			return deny(codes.RateLimited, RuleRateLimit, tool,
				"tool "+quote(tool)+" is limited to "+r.limit.String()+"; wait before calling it again",
				map[string]any{"tool": tool, "reason": "rate limit " + r.limit.String() + " exceeded"})
		}
	}

	if arg, src, hit := p.scanProtected(args); hit {
		d := deny(codes.ProtectedPath, RuleProtectedPath, tool,
			"argument "+quote(arg)+" refers to protected path "+src+"; the policy forbids tools to touch it",
			map[string]any{"tool": tool, "reason": "protected path", "argument": arg})
		d.FailedArg = arg
		return d
	}

	if r != nil {
		switch r.action {
		case ruleBlock:
			return p.violation(deny(codes.Forbidden, RuleToolBlock, tool,
				"tool "+quote(tool)+" is blocked by spec.tool_rules; change its action to allow or ask to use it",
				map[string]any{"tool": tool, "reason": "tool blocked by policy"}))
		case ruleAsk:
			return Decision{Action: ActionAsk, Tool: tool, FailedRule: RuleToolAsk,
				Reason: "tool " + quote(tool) + " needs a person's approval"}
		}
	}

	if _, listed := p.allowedTools[tool]; !listed && (r == nil || r.action != ruleAllow) {
		return p.violation(deny(codes.Forbidden, RuleAllowlist, tool,
			"tool "+quote(tool)+" is not allowed; add it to spec.allowed_tools or give it a tool_rules entry with action: allow",
			map[string]any{"tool": tool, "reason": "tool not in allowed_tools"}))
	}
	if r == nil {
		return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
	}

	for i := range r.args {
		a := &r.args[i]
		v, ok := args[a.name]
		if !ok {
			return p.argViolation(tool, a.name, RuleAllowArgs,
				"argument "+quote(a.name)+" is required by the allow_args of "+quote(tool))
		}
		if !a.re.MatchString(argString(v)) {
			return p.argViolation(tool, a.name, RuleAllowArgs,
				"argument "+quote(a.name)+" does not match "+quote(a.re.String())+"; change the value or the rule's allow_args")
		}
	}

	if r.strict {
		extra := ""
		for k := range args {
			if !r.hasArg(k) && (extra == "" || k < extra) {
				extra = k
			}
		}
		if extra != "" {
			return p.argViolation(tool, extra, RuleStrictArgs,
				"argument "+quote(extra)+" is not listed in the allow_args of "+quote(tool)+" and strict_args is on; remove it or list it")
		}
	}
	return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
}

func (p *Policy) argViolation(tool, arg, rule, reason string) Decision {
	d := deny(codes.Forbidden, rule, tool, reason,
		map[string]any{"tool": tool, "reason": reason, "argument": arg})
	d.FailedArg = arg
	return p.violation(d)
}

// argString is the string an allow_args regex sees: strings as they are,
// numbers in decimal, booleans true/false, null empty, arrays and objects
// as compact JSON.
func argString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			return string(x) // an integer, exactly as sent
		}
		if f, err := x.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func quote(s string) string { return strconv.Quote(s) }
