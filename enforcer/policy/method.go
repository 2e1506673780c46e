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

// CheckMethod decides whether a client message with this method may pass.
// An empty method is a response from the client (to sampling, roots or
// elicitation) and always passes. denied_methods wins over allowed_methods;
// "*" in allowed_methods allows the rest.
func (p *Policy) CheckMethod(method string) Decision {
	if method == "" {
		return allowDecision
	}
	m := Normalize(method)
	i, denied := p.deniedMethods[m]
	if !denied && m != "" {
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
