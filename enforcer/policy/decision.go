package policy

import "github.com/aip-project/aip/enforcer/codes"

// Action is what the proxy does with a message.
type Action int

// Actions.
const (
	// ActionDeny refuses the message with Decision.Code.
	ActionDeny Action = iota
	// ActionAllow forwards the message.
	ActionAllow
	// ActionAsk holds the call until a person approves it.
	ActionAsk
	// ActionAllowMonitor forwards a message that violates the policy,
	// because the policy is in monitor mode; it is audited as such.
	ActionAllowMonitor
)

var actionNames = [...]string{"deny", "allow", "ask", "allow_monitor"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "deny"
}

// Forward reports whether the message may go to the server now.
func (a Action) Forward() bool { return a == ActionAllow || a == ActionAllowMonitor }

// Audit decisions, as the AIP audit log writes them.
const (
	AuditAllow        = "ALLOW"
	AuditBlock        = "BLOCK"
	AuditAllowMonitor = "ALLOW_MONITOR"
	AuditRateLimited  = "RATE_LIMITED"
)

// Rule names reported in Decision.FailedRule.
const (
	RuleMethod        = "method"
	RuleRateLimit     = "rate_limit"
	RuleProtectedPath = "protected_path"
	RuleToolBlock     = "tool_rules.block"
	RuleToolAsk       = "tool_rules.ask"
	RuleAllowlist     = "allowed_tools"
	RuleAllowArgs     = "allow_args"
	RuleStrictArgs    = "strict_args"
	RuleSchemaHash    = "schema_hash"
	RuleSignature     = "signature"
	RuleParams        = "params"
)

// Decision is the engine's answer for one message.
type Decision struct {
	Action Action
	// Code and Message are the JSON-RPC error to send when denying (zero
	// when allowed). In monitor mode they say what enforce mode would do.
	Code    codes.Code
	Message string
	// Reason says what a person should change; safe to show the agent.
	Reason string
	// Data is the JSON-RPC error's data: {tool, reason} (-32001 and most
	// tool denials), plus argument for argument and path violations;
	// {method, reason} for -32006. data.reason is Reason. Nil when allowed.
	// Neither ever holds an argument value.
	Data map[string]any
	// Violation is true when the message broke a rule (also in monitor
	// mode, where it is still forwarded).
	Violation  bool
	FailedRule string
	FailedArg  string
	// Tool is the normalized tool name of a tools/call.
	Tool string
	// AuditDecision is ALLOW, BLOCK, ALLOW_MONITOR or RATE_LIMITED. For
	// ActionAsk it is empty until AfterApproval settles the call.
	AuditDecision string
}

var allowDecision = Decision{Action: ActionAllow, AuditDecision: AuditAllow}

// deny builds a denial for rule with an AIP code, reason and data.
func deny(code codes.Code, rule, tool, reason string, data map[string]any) Decision {
	audit := AuditBlock
	if code == codes.RateLimited {
		audit = AuditRateLimited
	}
	return Decision{
		Action: ActionDeny, Code: code, Message: code.Message(), Reason: reason,
		Data: data, Violation: true, FailedRule: rule, Tool: tool, AuditDecision: audit,
	}
}

// monitor turns a violation into ALLOW_MONITOR, keeping what enforce mode
// would have said.
func (d Decision) monitor() Decision {
	d.Action = ActionAllowMonitor
	d.AuditDecision = AuditAllowMonitor
	return d
}

// ApprovalOutcome is how an ask ended.
type ApprovalOutcome int

// Approval outcomes.
const (
	Approved ApprovalOutcome = iota
	Denied
	TimedOut
)

// AfterApproval settles an ActionAsk decision: approved calls are allowed;
// denied ones get -32004 and unanswered ones -32005. Other decisions are
// returned unchanged.
func (d Decision) AfterApproval(o ApprovalOutcome) Decision {
	if d.Action != ActionAsk {
		return d
	}
	switch o {
	case Approved:
		return Decision{Action: ActionAllow, Tool: d.Tool, AuditDecision: AuditAllow}
	case TimedOut:
		reason := "nobody approved the call to " + quote(d.Tool) + " in time; retry and approve it, " +
			"raise the enforcer's --approval-timeout, or change the tool's rule from action: ask"
		return deny(codes.ApprovalTimeout, RuleToolAsk, d.Tool, reason, map[string]any{"tool": d.Tool, "reason": reason})
	default:
		reason := "a person denied the call to " + quote(d.Tool) + " (or no approver is configured); " +
			"ask them to approve it, or change the tool's rule from action: ask"
		return deny(codes.UserDenied, RuleToolAsk, d.Tool, reason, map[string]any{"tool": d.Tool, "reason": reason})
	}
}
