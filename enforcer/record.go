package enforcer

import (
	"context"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
)

// maxAuditID bounds the request id copied into an audit record.
const maxAuditID = 128

// record turns a decision on a client message into an audit record,
// with the identity of the Caller in ctx.
func (e *Engine) record(ctx context.Context, s *state, method string, id []byte, d policy.Decision, argsSHA string, dlpCounts map[string]int) audit.Record {
	rec := audit.Record{
		Timestamp:  e.cfg.Now(),
		Direction:  audit.Upstream,
		Decision:   auditDecision(d),
		PolicyMode: s.policy.Mode(),
		Violation:  d.Violation,
		Method:     method,
		Tool:       d.Tool,
		FailedRule: d.FailedRule,
		FailedArg:  d.FailedArg,
		PolicyHash: s.policy.Hash(),
		Reason:     d.Reason,
		ArgsSHA256: argsSHA,
		DLP:        dlpCounts,
	}
	if !d.Action.Forward() {
		rec.Code = d.Code
	}
	if len(id) <= maxAuditID {
		rec.RequestID = string(id)
	}
	if c, ok := CallerFrom(ctx); ok {
		c.Identify(&rec)
	}
	return rec
}

func auditDecision(d policy.Decision) audit.Decision {
	if d.AuditDecision != "" {
		return audit.Decision(d.AuditDecision)
	}
	if d.Action.Forward() {
		return audit.Allow
	}
	return audit.Block
}

// appendAudit writes rec. It returns false when the record could not be
// written: the caller must then refuse the message (fail closed).
func (e *Engine) appendAudit(rec audit.Record) bool {
	if e.cfg.Audit == nil {
		return true
	}
	if _, err := e.cfg.Audit.Append(rec); err != nil {
		e.log.Error("audit log write failed; refusing the message (fail closed)", "err", err)
		return false
	}
	return true
}

// auditFailure is the decision when a decision could not be audited.
func auditFailure(tool string) policy.Decision {
	d := refusal(codes.InternalError, "audit", tool,
		"the enforcer could not write its audit log, so the message was refused; check the audit file and disk")
	d.Violation = false
	d.Data = map[string]any{"reason": "audit log unavailable"}
	return d
}

// refusal is a denial the engine itself decides (not the policy), with
// the AIP code, the rule that failed and a reason a person can act on.
func refusal(code codes.Code, rule, tool, reason string) policy.Decision {
	data := map[string]any{"reason": reason}
	if tool != "" {
		data["tool"] = tool
	}
	return policy.Decision{Action: policy.ActionDeny, Code: code, Message: code.Message(), Reason: reason,
		Data: data, Violation: true, FailedRule: rule, Tool: tool, AuditDecision: policy.AuditBlock}
}
