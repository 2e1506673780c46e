package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/internal/keypath"
)

const methodToolsCall = "tools/call"

// Evaluate decides one client→server request or notification: the method
// check, then for tools/call the tool rules. params is the raw JSON-RPC
// params. An empty method is refused, as CheckMethod says; responses (no
// method member) are not evaluated.
//
// In monitor mode a tools/call whose method is itself a violation (left
// out of allowed_methods, or denied) still goes through the tool checks:
// rate limits and protected paths are enforced, and ask rules ask; only
// when they pass is the method violation forwarded as ALLOW_MONITOR.
func (p *Policy) Evaluate(ctx context.Context, method string, params json.RawMessage) Decision {
	d := p.CheckMethod(method)
	if d.Action == ActionDeny || Normalize(method) != methodToolsCall {
		return d
	}
	var call struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	if err := dec.Decode(&call); err != nil {
		const reason = "tools/call params must be an object {name, arguments} with arguments an object; fix the client's request"
		return deny(codes.InvalidParams, RuleParams, "", reason, map[string]any{"reason": reason})
	}
	td := p.EvaluateToolCall(ctx, call.Name, call.Arguments)
	if d.Action == ActionAllow || td.Action == ActionDeny || td.Action == ActionAsk {
		return td
	}
	d.Tool = td.Tool // monitor mode: the method violation is what is audited
	return d
}

// EvaluateToolCall decides a tools/call, in the AIP order: rate limit →
// protected paths → tool_rules (block, ask) → allowlist → allow_args →
// strict_args → allow. Argument numbers may be float64 or json.Number.
func (p *Policy) EvaluateToolCall(ctx context.Context, name string, args map[string]any) Decision {
	tool := Normalize(name)
	if tool == "" {
		const reason = "tools/call needs a tool name in params.name; fix the client's request"
		return deny(codes.InvalidParams, RuleParams, "", reason, map[string]any{"reason": reason})
	}
	r := p.rules[tool]

	if r != nil && r.limit.N > 0 {
		if d, limited := p.checkRateLimit(ctx, tool, r); limited {
			return d
		}
	}

	if arg, src, hit := p.scanProtected(args); hit {
		reason := fmt.Sprintf("argument %q refers to protected path %s of policy %q; tools may not touch it, "+
			"so use a path outside it (or remove the entry if tools should reach it)", arg, src, p.name)
		if src == sourceTooDeep {
			reason = fmt.Sprintf("argument %q is nested deeper than %d levels, so it cannot be checked for protected paths; "+
				"send flatter arguments", arg, maxArgDepth)
		}
		d := deny(codes.ProtectedPath, RuleProtectedPath, tool, reason,
			map[string]any{"tool": tool, "reason": reason, "argument": arg})
		d.FailedArg = arg
		return d
	}

	if r != nil {
		switch r.action {
		case ruleBlock:
			reason := fmt.Sprintf("tool %q is blocked by spec.tool_rules[%d] (action: block) in policy %q; "+
				"change the rule's action to allow or ask to use it", tool, r.index, p.name)
			return p.violation(deny(codes.Forbidden, RuleToolBlock, tool, reason,
				map[string]any{"tool": tool, "reason": reason}))
		case ruleAsk:
			return Decision{Action: ActionAsk, Tool: tool, FailedRule: RuleToolAsk,
				Reason: fmt.Sprintf("tool %q needs a person's approval: spec.tool_rules[%d] of policy %q says action: ask",
					tool, r.index, p.name)}
		}
	}

	if _, listed := p.allowedTools[tool]; !listed && (r == nil || r.action != ruleAllow) {
		reason := fmt.Sprintf("tool %q is not allowed by policy %q; add it to spec.allowed_tools, "+
			"or give it a spec.tool_rules entry with action: allow", tool, p.name)
		return p.violation(deny(codes.Forbidden, RuleAllowlist, tool, reason,
			map[string]any{"tool": tool, "reason": reason}))
	}
	if r == nil {
		return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
	}
	if d, bad := p.checkArgs(tool, r, args); bad {
		return d
	}
	return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
}

// checkRateLimit counts one call against r's rate limit; limited reports a
// denial (over the limit, or the limiter failed: fail closed). The key is
// per agent when ctx carries a WithRateScope.
func (p *Policy) checkRateLimit(ctx context.Context, tool string, r *rule) (d Decision, limited bool) {
	ok, err := p.limiter.Allow(ctx, RateKey(ctx, tool), r.limit)
	if err == nil && ok {
		return Decision{}, false
	}
	reason := fmt.Sprintf("tool %q is limited to %s by spec.tool_rules[%d].rate_limit of policy %q; "+
		"wait before calling it again, or raise the limit", tool, r.limit, r.index, p.name)
	if err != nil {
		reason = fmt.Sprintf("the rate limiter for tool %q (spec.tool_rules[%d].rate_limit of policy %q) is unavailable, "+
			"so the call was refused (fail closed); retry later", tool, r.index, p.name)
	}
	return deny(codes.RateLimited, RuleRateLimit, tool, reason, map[string]any{"tool": tool, "reason": reason}), true
}

// checkArgs applies allow_args, then strict_args, of an allow rule.
func (p *Policy) checkArgs(tool string, r *rule, args map[string]any) (d Decision, bad bool) {
	rulePath := keypath.Index("spec.tool_rules", r.index)
	for i := range r.args {
		a := &r.args[i]
		v, ok := args[a.name]
		if !ok {
			return p.argViolation(tool, a.name, RuleAllowArgs, fmt.Sprintf(
				"argument %q of tool %q is required by %s of policy %q; pass it, or remove it from allow_args",
				a.name, tool, keypath.Join(rulePath+".allow_args", a.name), p.name)), true
		}
		if !a.re.MatchString(argString(v)) {
			return p.argViolation(tool, a.name, RuleAllowArgs, fmt.Sprintf(
				"argument %q of tool %q does not match %s (%q) of policy %q; change the value, or the pattern if the value should be allowed",
				a.name, tool, keypath.Join(rulePath+".allow_args", a.name), a.re.String(), p.name)), true
		}
	}
	if !r.strict {
		return Decision{}, false
	}
	extra := ""
	for k := range args {
		if !r.hasArg(k) && (extra == "" || k < extra) {
			extra = k
		}
	}
	if extra == "" {
		return Decision{}, false
	}
	strictFrom := rulePath + ".strict_args"
	if !r.ownStrict {
		strictFrom = "spec.strict_args_default"
	}
	return p.argViolation(tool, extra, RuleStrictArgs, fmt.Sprintf(
		"argument %q of tool %q is not listed in %s.allow_args of policy %q and %s is true; "+
			"remove the argument, or list it in allow_args", extra, tool, rulePath, p.name, strictFrom)), true
}

func (p *Policy) argViolation(tool, arg, rule, reason string) Decision {
	d := deny(codes.Forbidden, rule, tool, reason,
		map[string]any{"tool": tool, "reason": reason, "argument": arg})
	d.FailedArg = arg
	return p.violation(d)
}

func quote(s string) string { return strconv.Quote(s) }
