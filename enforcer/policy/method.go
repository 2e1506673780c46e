package policy

import (
	"fmt"

	"github.com/aip-project/aip/enforcer/codes"
)

// DefaultAllowedMethods are the methods allowed when spec.allowed_methods
// is empty, as the AIP specification lists them.
var DefaultAllowedMethods = []string{
	"initialize", "initialized", "ping", "tools/call", "tools/list", "completion/complete",
	"notifications/initialized", "notifications/progress", "notifications/message",
	"notifications/resources/updated", "notifications/resources/list_changed",
	"notifications/tools/list_changed", "notifications/prompts/list_changed",
	"notifications/cancelled", "cancelled",
}

// CheckMethod decides whether a client request or notification with this
// method may pass. denied_methods wins over allowed_methods; "*" in
// allowed_methods allows the rest.
//
// A method that is empty, or empty once normalized, is refused (-32006) in
// every mode, monitor included: such a message is malformed, not a
// response. Responses from the client (to sampling, roots or elicitation
// requests) are the messages with no method member at all; they are not
// the policy's to decide and always pass, so callers forward them without
// calling CheckMethod or Evaluate.
func (p *Policy) CheckMethod(method string) Decision {
	m := Normalize(method)
	if m == "" {
		const reason = "a request or notification needs a method name; only responses carry no method member"
		return deny(codes.MethodNotAllowed, RuleMethod, "", reason, map[string]any{"method": method, "reason": reason})
	}
	i, denied := p.deniedMethods[m]
	if !denied {
		if p.allowAllMethods {
			return allowDecision
		}
		if _, ok := p.allowedMethods[m]; ok {
			return allowDecision
		}
	}
	var reason string
	switch {
	case denied:
		reason = fmt.Sprintf("method %q is listed in spec.denied_methods[%d] of policy %q; remove it there to allow it", m, i, p.name)
	case p.defaultMethods:
		reason = fmt.Sprintf("method %q is not among the default methods of policy %q (spec.allowed_methods is not set); "+
			"set spec.allowed_methods to the defaults you need plus %q to allow it", m, p.name, m)
	default:
		reason = fmt.Sprintf("method %q is not in spec.allowed_methods of policy %q; add it there to allow it", m, p.name)
	}
	d := deny(codes.MethodNotAllowed, RuleMethod, "", reason, map[string]any{"method": method, "reason": reason})
	return p.violation(d)
}

// violation applies monitor mode to a policy violation.
func (p *Policy) violation(d Decision) Decision {
	if p.monitor {
		return d.monitor()
	}
	return d
}
