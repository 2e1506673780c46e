package enforcer

import (
	"context"
	"encoding/json"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// HandleResponse processes one message from the server and returns what to
// send to the client, or nil to send nothing. Responses to tools/list are
// filtered (tools the policy always blocks or whose schema does not match
// its schema_hash are removed); every result, error and server-initiated
// message has its secrets redacted. If redaction fails the client gets
// -32014 instead of the result: an unredacted result is never passed on. A
// line that is not JSON-RPC is dropped.
func (e *Engine) HandleResponse(ctx context.Context, raw []byte) []byte {
	s := e.state.Load()
	m, err := jsonrpc.Parse(raw)
	if err != nil {
		e.log.Warn("dropped a malformed message from the server", "reason", asProtocolError(err).Reason)
		return nil
	}
	if m.Kind != jsonrpc.KindBatch {
		return e.handleServerOne(ctx, s, &m)
	}
	var out [][]byte
	for i := range m.Batch {
		if b := e.handleServerOne(ctx, s, &m.Batch[i]); b != nil {
			out = append(out, b)
		}
	}
	return joinArray(out)
}

func (e *Engine) handleServerOne(ctx context.Context, s *state, m *jsonrpc.Message) []byte {
	switch m.Kind {
	case jsonrpc.KindResponse:
	case jsonrpc.KindRequest, jsonrpc.KindNotification:
		return e.redactServerMessage(ctx, s, m)
	default:
		e.log.Warn("dropped a malformed message from the server", "reason", m.Err.Reason)
		return nil
	}
	c, _ := e.pending.take(m.ID)
	if m.Error != nil {
		red, counts, err := e.redact(s, m.Error)
		if err != nil {
			return e.failResponse(ctx, s, m, c, dlpFailure(c.tool, "the enforcer could not redact secrets from the server's error, so it was withheld"))
		}
		if counts == nil {
			return m.Raw
		}
		if !e.appendAudit(e.downRecord(ctx, s, m, c, policy.Decision{Tool: c.tool, AuditDecision: policy.AuditAllow}, counts)) {
			return e.failResponse(ctx, s, m, c, auditFailure(c.tool))
		}
		return buildErrorObject(m.ID, red)
	}
	result := m.Result
	changed := false
	if c.method == methodToolsList {
		filtered, ok := e.filterToolsList(ctx, s, m, result)
		if !ok {
			return e.failResponse(ctx, s, m, c, filterFailure())
		}
		changed = len(filtered) != len(result)
		result = filtered
	}
	red, counts, err := e.redact(s, result)
	if err != nil {
		return e.failResponse(ctx, s, m, c, dlpFailure(c.tool, "the enforcer could not redact secrets from the result, so it was withheld; retry, or fix spec.dlp"))
	}
	if counts != nil {
		e.log.Info("redacted secrets in a result", "method", c.method, "tool", c.tool, "dlp_rules", sortedNames(counts))
		if !e.appendAudit(e.downRecord(ctx, s, m, c, policy.Decision{Tool: c.tool, AuditDecision: policy.AuditAllow}, counts)) {
			return e.failResponse(ctx, s, m, c, auditFailure(c.tool))
		}
		result, changed = red, true
	}
	if !changed {
		return m.Raw
	}
	out, err := jsonrpc.ResultResponse(m.ID, result)
	if err != nil {
		return e.failResponse(ctx, s, m, c, dlpFailure(c.tool, "the enforcer could not rebuild the redacted result"))
	}
	return out
}

// redact applies response DLP to one JSON value.
func (e *Engine) redact(s *state, v json.RawMessage) (json.RawMessage, map[string]int, error) {
	if !s.scanResponses || len(v) == 0 {
		return v, nil, nil
	}
	red, counts, err := s.dlp.RedactResponse(v)
	if len(counts) == 0 {
		counts = nil
	}
	return red, counts, err
}

// redactServerMessage redacts the params of a request or notification the
// server sends the client (sampling, logging): they reach the agent too.
func (e *Engine) redactServerMessage(ctx context.Context, s *state, m *jsonrpc.Message) []byte {
	red, counts, err := e.redact(s, m.Params)
	if err != nil {
		e.log.Warn("dropped a server message whose secrets could not be redacted", "method", policy.Normalize(m.Method))
		return nil
	}
	if counts == nil {
		return m.Raw
	}
	c := call{method: policy.Normalize(m.Method)}
	if !e.appendAudit(e.downRecord(ctx, s, m, c, policy.Decision{AuditDecision: policy.AuditAllow}, counts)) {
		return nil
	}
	return rebuildRequest(m, red)
}

// failResponse replaces a server response the enforcer cannot pass on
// with an error carrying its id, and audits it.
func (e *Engine) failResponse(ctx context.Context, s *state, m *jsonrpc.Message, c call, d policy.Decision) []byte {
	e.log.Error("withheld a server response", "method", c.method, "tool", c.tool, "code", int(d.Code), "reason", d.Reason)
	e.appendAudit(e.downRecord(ctx, s, m, c, d, nil))
	out, err := jsonrpc.ErrorResponse(m.ID, d.Code, d.Message, d.Data)
	if err != nil {
		out, _ = jsonrpc.ErrorResponse(m.ID, d.Code, d.Message, nil)
	}
	return out
}

func (e *Engine) downRecord(ctx context.Context, s *state, m *jsonrpc.Message, c call, d policy.Decision, counts map[string]int) audit.Record {
	rec := e.record(ctx, s, c.method, m.ID, d, "", counts)
	rec.Direction = audit.Downstream
	if rec.Tool == "" {
		rec.Tool = c.tool
	}
	return rec
}

func filterFailure() policy.Decision {
	return refusal(codes.InternalError, "tools/list", "",
		"the server's tools/list result is malformed, so the enforcer could not filter it and withheld it")
}

// buildErrorObject writes a response with a (redacted) error object.
func buildErrorObject(id, errObj json.RawMessage) []byte {
	b := make([]byte, 0, len(errObj)+len(id)+32)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"error":`...)
	b = append(b, errObj...)
	return append(b, '}')
}
