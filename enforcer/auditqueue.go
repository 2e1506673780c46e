package enforcer

import (
	"context"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/jsonrpc"
)

type auditQueueKey struct{}

// WithAuditQueue returns ctx for HandleRequest (and the Wait of the verdicts
// it returns) making the engine queue the audit records of client
// messages (audit.Writer.Queue) rather than write each at once, so that a
// pipelined burst costs one write. The transport promises to call
// FlushAudit before it sends any message those calls returned, and not to
// send them when FlushAudit fails (see Unsent): the record of a message
// must be in the audit log before the server can see the message.
func WithAuditQueue(ctx context.Context) context.Context {
	return context.WithValue(ctx, auditQueueKey{}, true)
}

func auditQueued(ctx context.Context) bool {
	q, _ := ctx.Value(auditQueueKey{}).(bool)
	return q
}

// FlushAudit writes the queued audit records (see WithAuditQueue). An
// error means they could not be written: what they admitted must not be
// sent.
func (e *Engine) FlushAudit() error {
	if e.cfg.Audit == nil {
		return nil
	}
	return e.cfg.Audit.Flush()
}

// appendUpstream records a decision on a client message: queued when ctx
// asks (WithAuditQueue), written at once otherwise. It returns false when
// the record could not be made: the caller refuses the message.
func (e *Engine) appendUpstream(ctx context.Context, rec audit.Record) bool {
	if e.cfg.Audit == nil || !auditQueued(ctx) {
		return e.appendAudit(rec)
	}
	if _, err := e.cfg.Audit.Queue(rec); err != nil {
		e.log.Error("audit log write failed; refusing the message (fail closed)", "err", err)
		return false
	}
	return true
}

// Unsent answers the client for msg, a message HandleRequest admitted
// that will not be sent because its audit record could not be written
// (FlushAudit failed): each request in it gets the audit-failure error
// and its id is released. It returns nil when msg holds no request.
func (e *Engine) Unsent(msg []byte) []byte {
	m, err := jsonrpc.Parse(msg)
	if err != nil {
		return nil // HandleRequest built msg: never happens
	}
	one := func(m *jsonrpc.Message) []byte {
		if m.Kind != jsonrpc.KindRequest {
			return nil
		}
		e.pending.release(m.ID)
		e.log.Error("audit log write failed; a message was not forwarded (fail closed)", "method", policy.Normalize(m.Method))
		return e.reply(m, auditFailure("")).reply
	}
	if m.Kind != jsonrpc.KindBatch {
		return one(&m)
	}
	var replies [][]byte
	for i := range m.Batch {
		if r := one(&m.Batch[i]); r != nil {
			replies = append(replies, r)
		}
	}
	return joinArray(replies)
}
