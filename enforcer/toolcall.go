package enforcer

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/dlp"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// handleToolCall decides a tools/call (checkToolCall), then forwards it,
// refuses it or asks for an approval. params has the token stripped
// already.
func (e *Engine) handleToolCall(ctx context.Context, s *state, m *jsonrpc.Message, params json.RawMessage, stripped bool) outcome {
	c := e.checkToolCall(ctx, s, m, params)
	switch {
	case c.d.Action == policy.ActionAsk:
		return e.ask(ctx, s, m, c.d, c.tc, c.params, stripped || c.redacted, c.argsSHA, c.counts)
	case !c.d.Action.Forward():
		return e.refuse(ctx, s, m, c.d, c.argsSHA)
	}
	return e.forwardCall(ctx, s, m, c.d, c.params, stripped || c.redacted, c.argsSHA, c.counts, false)
}

// toolCheck is the decision on a tools/call before anything is sent.
type toolCheck struct {
	d        policy.Decision
	tc       jsonrpc.ToolCall
	params   json.RawMessage // to forward: DLP may have redacted them
	redacted bool
	argsSHA  string
	counts   map[string]int
}

// checkToolCall decides a tools/call: the method check, a tool blocked
// for a schema mismatch, the policy's tool rules, then request DLP. The
// decision is a refusal, a forward, or an ask.
func (e *Engine) checkToolCall(ctx context.Context, s *state, m *jsonrpc.Message, params json.RawMessage) toolCheck {
	if d := s.policy.CheckMethod(m.Method); d.Action != policy.ActionAllow {
		return toolCheck{d: d, params: params}
	}
	pm := *m
	pm.Params = params
	tc, err := pm.ToolCall()
	if err != nil {
		return toolCheck{d: invalidParams(asProtocolError(err).Reason)}
	}
	argsSHA, err := audit.ArgsDigestOfValid(tc.Arguments) // Parse validated the message
	if err != nil {
		return toolCheck{d: invalidParams("tools/call arguments cannot be canonicalized: " + err.Error())}
	}
	args, err := toolArgs(tc)
	if err != nil {
		return toolCheck{d: invalidParams("tools/call arguments must be a JSON object"), argsSHA: argsSHA}
	}

	var d policy.Decision
	if mm, ok := (*s.mismatched.Load())[policy.Normalize(tc.Name)]; ok {
		d = mm
	} else {
		if c, ok := CallerFrom(ctx); ok && c.AgentID != "" {
			ctx = policy.WithRateScope(ctx, c.AgentID) // rate limits per agent and tool
		}
		d = s.policy.EvaluateToolCall(ctx, tc.Name, args)
	}
	if !d.Action.Forward() && d.Action != policy.ActionAsk {
		return toolCheck{d: d, argsSHA: argsSHA}
	}
	params, counts, d, _ := e.scanRequest(s, d, params)
	return toolCheck{d: d, tc: tc, params: params, argsSHA: argsSHA, counts: counts,
		redacted: counts != nil && s.dlp.OnRequestMatch() == dlp.ActionRedact}
}

// toolArgs decodes the arguments of tc for the policy exactly as
// json.Decoder with UseNumber does. tc.Arguments is valid JSON (Parse
// checked it) and tc.Args are its members, names unique; flat members
// (strings without escapes, numbers, booleans, null) are read from their
// tokens without decoding the object again, anything else goes through
// the decoder.
func toolArgs(tc jsonrpc.ToolCall) (map[string]any, error) {
	args := make(map[string]any, len(tc.Args))
	if tc.Arguments == nil {
		return args, nil
	}
	for _, a := range tc.Args {
		v, ok := flatValue(a.Value)
		if !ok || !utf8.ValidString(a.Name) {
			return decodeArgs(tc.Arguments)
		}
		args[a.Name] = v
	}
	return args, nil
}

// flatValue is the value json.Decoder with UseNumber gives a scalar token
// of valid JSON; ok is false when only the decoder can tell (escapes,
// invalid UTF-8, which it replaces) or the value is an object or array.
func flatValue(tok []byte) (v any, ok bool) {
	if len(tok) == 0 {
		return nil, false
	}
	switch tok[0] {
	case '"':
		if len(tok) < 2 {
			return nil, false
		}
		inner := tok[1 : len(tok)-1]
		if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
			return nil, false
		}
		return string(inner), true
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '{', '[':
		return nil, false
	}
	return json.Number(tok), true
}

// decodeArgs decodes an arguments object with the decoder.
func decodeArgs(raw json.RawMessage) (map[string]any, error) {
	args := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		return nil, err
	}
	return args, nil
}

func (e *Engine) forwardCall(ctx context.Context, s *state, m *jsonrpc.Message, d policy.Decision, params json.RawMessage, rewrite bool, argsSHA string, counts map[string]int, reserved bool) outcome {
	msg := m.Raw
	if rewrite {
		msg = rebuildRequest(m, params)
	}
	return e.admit(ctx, s, m, d, call{method: methodToolsCall, tool: d.Tool}, msg, argsSHA, counts, reserved)
}

// scanRequest applies request DLP to tools/call params. It returns the
// params to forward, the match counts, and the decision; ok false means
// the returned decision refuses the call.
func (e *Engine) scanRequest(s *state, d policy.Decision, params json.RawMessage) (json.RawMessage, map[string]int, policy.Decision, bool) {
	if !s.dlp.ScansRequests() {
		return params, nil, d, true
	}
	counts, err := s.dlp.ScanRequest(params)
	if err != nil {
		return nil, nil, dlpFailure(d.Tool, "the enforcer could not scan the call's arguments for secrets, so it was refused"), false
	}
	if len(counts) == 0 {
		return params, nil, d, true
	}
	names := sortedNames(counts)
	switch s.dlp.OnRequestMatch() {
	case dlp.ActionWarn:
		e.log.Warn("secret in tool call arguments forwarded (on_request_match: warn)", "tool", d.Tool, "dlp_rules", names)
		return params, counts, d, true
	case dlp.ActionRedact:
		red, counts, err := s.dlp.RedactRequest(params)
		if err != nil {
			return nil, nil, dlpFailure(d.Tool, "the enforcer could not redact secrets from the call's arguments, so it was refused"), false
		}
		return red, counts, d, true
	}
	reason := "the arguments of " + d.Tool + " contain what DLP rule(s) " + strings.Join(names, ", ") +
		" flag as a secret; remove it from the call, or change spec.dlp.on_request_match"
	deny := refusal(codes.Forbidden, "dlp", d.Tool, reason)
	if s.policy.Mode() == policy.ModeMonitor {
		deny.Action, deny.AuditDecision = policy.ActionAllowMonitor, policy.AuditAllowMonitor
		return params, counts, deny, true
	}
	return nil, counts, deny, false
}

// ask holds the call until the gate settles it; the returned outcome is
// pending. The request id is reserved now, so a duplicate is refused.
func (e *Engine) ask(ctx context.Context, s *state, m *jsonrpc.Message, d policy.Decision, tc jsonrpc.ToolCall, params json.RawMessage, rewrite bool, argsSHA string, counts map[string]int) outcome {
	c := call{method: methodToolsCall, tool: d.Tool}
	if m.Kind == jsonrpc.KindRequest && !e.pending.reserve(m.ID, c) {
		return e.refuse(ctx, s, m, duplicateID(d.Tool), argsSHA)
	}
	arguments := tc.Arguments
	if arguments == nil {
		arguments = json.RawMessage(`{}`)
	}
	req := approval.Request{Tool: d.Tool, Arguments: arguments, ArgsSHA256: argsSHA,
		Policy: s.policy.Name(), PolicyHash: s.policy.Hash(), Agent: e.cfg.Agent, Reason: d.Reason}
	if caller, ok := CallerFrom(ctx); ok {
		req.Agent, req.User = caller.AgentID, caller.UserID
	}
	e.log.Info("tool call waits for approval", "tool", d.Tool, "args_sha256", argsSHA)
	return outcome{wait: func(wctx context.Context) outcome {
		o := e.cfg.Gate.Ask(wctx, req)
		settled := d.AfterApproval(policyOutcome(o))
		if !settled.Action.Forward() {
			if m.Kind == jsonrpc.KindRequest {
				e.pending.release(m.ID)
			}
			return e.refuse(ctx, s, m, settled, argsSHA)
		}
		return e.forwardCall(ctx, s, m, settled, params, rewrite, argsSHA, counts, true)
	}}
}

func policyOutcome(o approval.Outcome) policy.ApprovalOutcome {
	switch o {
	case approval.Approved:
		return policy.Approved
	case approval.TimedOut:
		return policy.TimedOut
	}
	return policy.Denied
}

func dlpFailure(tool, reason string) policy.Decision {
	return refusal(codes.DLPRedactionFailed, "dlp", tool, reason)
}

func sortedNames(counts map[string]int) []string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
