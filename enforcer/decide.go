package enforcer

import (
	"context"
	"encoding/json"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/jsonrpc"
	"github.com/aip-project/aip/internal/jsonvalid"
)

// Decide decides one call that the engine will not forward, for a gateway
// that enforces the answer itself (the sidecar's POST /v1/validate): the
// method check and, for tools/call (params {name, arguments}), the same
// checks as HandleRequest: tool rules, schema pins, rate limits, request
// DLP. An `ask` comes back unsettled (policy.ActionAsk): nobody is asked.
// Arguments DLP would redact are refused, since the gateway forwards them
// as they are. The decision is audited, with the Caller in ctx; an audit
// failure is a refusal.
func (e *Engine) Decide(ctx context.Context, method string, params json.RawMessage) policy.Decision {
	s := e.state.Load()
	m := &jsonrpc.Message{Kind: jsonrpc.KindRequest, Method: method, Params: params}
	norm := policy.Normalize(method)
	var c toolCheck
	switch {
	case norm == methodToolsCall && len(params) > 0 && !jsonvalid.Valid(params):
		// checkToolCall reads JSON a parsed message holds: valid.
		c.d = invalidParams("tools/call params are not valid JSON")
	case norm == methodToolsCall:
		c = e.checkToolCall(ctx, s, m, params)
		if c.redacted && c.d.Action.Forward() {
			c.d = refusal(codes.Forbidden, "dlp", c.d.Tool, "the arguments of "+c.d.Tool+
				" hold a secret the enforcer would redact, which a gateway cannot do; remove it from the call")
		}
	default:
		c.d = s.policy.CheckMethod(method)
	}
	if !e.appendAudit(e.record(ctx, s, norm, nil, c.d, c.argsSHA, c.counts)) {
		return auditFailure(c.d.Tool)
	}
	return c.d
}
