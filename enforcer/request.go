package enforcer

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/jsonrpc"
)

const (
	methodToolsCall = "tools/call"
	methodToolsList = "tools/list"
	methodCancelled = "notifications/cancelled"
)

// outcome is the verdict for one message or batch element.
type outcome struct {
	forward []byte
	reply   []byte
	wait    func(ctx context.Context) outcome
}

// HandleRequest decides one message from the client: a request, a
// notification, a response to a server request (which passes), or a
// batch (decided element by element). A line that is not JSON-RPC 2.0 gets
// a parse or invalid-request error and is never forwarded. Any error while
// deciding is a refusal. A tools/call under an `ask` rule comes back
// Pending; a batch holding one is forwarded, as one batch, once every ask
// in it is settled.
func (e *Engine) HandleRequest(ctx context.Context, raw []byte) Verdict {
	s := e.state.Load()
	m, err := jsonrpc.Parse(raw)
	if err != nil {
		return Verdict{Reply: e.protocolError(ctx, s, err)}
	}
	if m.Kind != jsonrpc.KindBatch {
		return toVerdict(e.handleOne(ctx, s, &m))
	}
	outs := make([]outcome, len(m.Batch))
	pending := false
	for i := range m.Batch {
		outs[i] = e.handleOne(ctx, s, &m.Batch[i])
		pending = pending || outs[i].wait != nil
	}
	if !pending {
		return joinBatch(outs)
	}
	return Verdict{wait: func(ctx context.Context) Verdict {
		var wg sync.WaitGroup
		for i := range outs {
			if outs[i].wait != nil {
				wg.Go(func() { outs[i] = outs[i].wait(ctx) })
			}
		}
		wg.Wait()
		return joinBatch(outs)
	}}
}

func toVerdict(o outcome) Verdict {
	v := Verdict{Forward: o.forward, Reply: o.reply}
	if o.wait != nil {
		v.wait = func(ctx context.Context) Verdict { return toVerdict(o.wait(ctx)) }
	}
	return v
}

// joinBatch gathers the elements to forward into one batch and the replies
// into another.
func joinBatch(outs []outcome) Verdict {
	var fwd, rep [][]byte
	for _, o := range outs {
		if o.forward != nil {
			fwd = append(fwd, o.forward)
		}
		if o.reply != nil {
			rep = append(rep, o.reply)
		}
	}
	return Verdict{Forward: joinArray(fwd), Reply: joinArray(rep)}
}

func joinArray(msgs [][]byte) []byte {
	if len(msgs) == 0 {
		return nil
	}
	n := 2
	for _, m := range msgs {
		n += len(m) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return append(b, ']')
}

// protocolError answers a message that is not JSON-RPC 2.0, and audits it.
func (e *Engine) protocolError(ctx context.Context, s *state, err error) []byte {
	perr := asProtocolError(err)
	e.log.Info("refused a malformed client message", "code", int(perr.Code), "reason", perr.Reason)
	d := policy.Decision{Action: policy.ActionDeny, Code: perr.Code, Reason: perr.Reason,
		Violation: true, FailedRule: "jsonrpc", AuditDecision: policy.AuditBlock}
	e.appendUpstream(ctx, e.record(ctx, s, "", perr.ID, d, "", nil))
	return perr.Response()
}

// handleOne decides one message (not a batch).
func (e *Engine) handleOne(ctx context.Context, s *state, m *jsonrpc.Message) outcome {
	switch m.Kind {
	case jsonrpc.KindResponse:
		return outcome{forward: m.Raw} // the client answering a server request
	case jsonrpc.KindRequest, jsonrpc.KindNotification:
	default:
		return outcome{reply: e.protocolError(ctx, s, m.Err)}
	}
	method := policy.Normalize(m.Method)
	if method == "" {
		// Refused in every mode, before params are looked at.
		return e.refuse(ctx, s, m, s.policy.CheckMethod(m.Method), "")
	}
	params, stripped, err := stripAAT(m.Params)
	if err != nil {
		return e.refuse(ctx, s, m, invalidParams(err.Error()), "")
	}
	if method == methodToolsCall {
		return e.handleToolCall(ctx, s, m, params, stripped)
	}
	d := s.policy.CheckMethod(m.Method)
	if !d.Action.Forward() {
		return e.refuse(ctx, s, m, d, "")
	}
	msg := m.Raw
	if stripped {
		msg = rebuildRequest(m, params)
	}
	o := e.admit(ctx, s, m, d, call{method: method}, msg, "", nil, false)
	if o.forward != nil && method == methodCancelled {
		e.cancelled(params)
	}
	return o
}

// admit forwards an allowed message: it reserves the request's id for the
// response (unless already reserved), writes the audit record, and refuses the message if either
// fails.
func (e *Engine) admit(ctx context.Context, s *state, m *jsonrpc.Message, d policy.Decision, c call, msg []byte, argsSHA string, dlpCounts map[string]int, reserved bool) outcome {
	isReq := m.Kind == jsonrpc.KindRequest
	if isReq && !reserved && !e.pending.reserve(m.ID, c) {
		return e.refuse(ctx, s, m, duplicateID(d.Tool), argsSHA)
	}
	if !e.appendUpstream(ctx, e.record(ctx, s, c.method, m.ID, d, argsSHA, dlpCounts)) {
		if isReq {
			e.pending.release(m.ID)
		}
		return e.reply(m, auditFailure(d.Tool))
	}
	if d.Action == policy.ActionAllowMonitor {
		e.log.Warn("policy violation forwarded (monitor mode)", "method", c.method, "tool", d.Tool, "rule", d.FailedRule, "code", int(d.Code))
	}
	return outcome{forward: msg}
}

// refuse audits a denial and answers it (requests only: notifications get
// no response in JSON-RPC).
func (e *Engine) refuse(ctx context.Context, s *state, m *jsonrpc.Message, d policy.Decision, argsSHA string) outcome {
	level := slog.LevelInfo
	if quietRefusal(m.Method, d) {
		level = slog.LevelDebug
	}
	e.log.Log(ctx, level, "message refused", "method", policy.Normalize(m.Method), "tool", d.Tool,
		"rule", d.FailedRule, "arg", d.FailedArg, "code", int(d.Code))
	e.appendUpstream(ctx, e.record(ctx, s, policy.Normalize(m.Method), m.ID, d, argsSHA, nil))
	return e.reply(m, d)
}

func (e *Engine) reply(m *jsonrpc.Message, d policy.Decision) outcome {
	if m.Kind != jsonrpc.KindRequest {
		return outcome{}
	}
	data := any(nil)
	if d.Data != nil {
		data = d.Data
	} else if d.Reason != "" {
		data = map[string]any{"reason": d.Reason}
	}
	msg, err := jsonrpc.ErrorResponse(m.ID, d.Code, d.Message, data)
	if err != nil {
		msg, _ = jsonrpc.ErrorResponse(m.ID, d.Code, d.Message, nil) // no data: always builds
	}
	return outcome{reply: msg}
}

// methodServerDiscover is sent by MCP clients (the official Go SDK
// v1.8 among them) on every connection to probe for optional features.
const methodServerDiscover = "server/discover"

// quietRefusal reports whether a refusal is routine and logged at DEBUG:
// server/discover refused by the method check. The AIP default
// allowed_methods leave it out, and clients fall back when it fails, so
// logging it at INFO would add a line to every session. It is refused
// (−32006) and audited all the same.
func quietRefusal(method string, d policy.Decision) bool {
	return d.FailedRule == policy.RuleMethod && policy.Normalize(method) == methodServerDiscover
}

func invalidParams(reason string) policy.Decision {
	return refusal(codes.InvalidParams, policy.RuleParams, "", reason)
}

// rebuildRequest writes m again with new params.
func rebuildRequest(m *jsonrpc.Message, params json.RawMessage) []byte {
	method, _ := json.Marshal(m.Method) // a string always marshals
	b := make([]byte, 0, len(m.Raw))
	b = append(b, `{"jsonrpc":"2.0"`...)
	if m.ID != nil {
		b = append(b, `,"id":`...)
		b = append(b, m.ID...)
	}
	b = append(b, `,"method":`...)
	b = append(b, method...)
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

func duplicateID(tool string) policy.Decision {
	d := refusal(codes.InvalidRequest, "jsonrpc", tool, "request id is already in use by a request awaiting its response; use a new id")
	d.Data = map[string]any{"reason": "duplicate request id"}
	return d
}

// cancelled notes a notifications/cancelled: the server may never answer
// the request it names, so its id must not stay reserved for ever.
func (e *Engine) cancelled(params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) == nil {
		e.pending.cancel(p.RequestID)
	}
}
