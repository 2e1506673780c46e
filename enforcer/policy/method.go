package policy

import "github.com/aip-project/aip/enforcer/codes"

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
	_, denied := p.deniedMethods[m]
	if !denied && m != "" {
		if p.allowAllMethods {
			return allowDecision
		}
		if _, ok := p.allowedMethods[m]; ok {
			return allowDecision
		}
	}
	reason := "method " + quote(m) + " is not in spec.allowed_methods; add it there if the server should receive it"
	if denied {
		reason = "method " + quote(m) + " is listed in spec.denied_methods; remove it there to allow it"
	}
	d := deny(codes.MethodNotAllowed, RuleMethod, "", reason, map[string]any{"method": method})
	return p.violation(d)
}

// violation applies monitor mode to a policy violation.
func (p *Policy) violation(d Decision) Decision {
	if p.monitor {
		return d.monitor()
	}
	return d
}
