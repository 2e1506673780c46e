package stdio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// relay moves messages between the client and the server through the
// engine. Its writers serialize whole messages.
type relay struct {
	engine   *enforcer.Engine
	toServer *jsonrpc.Writer
	toClient *jsonrpc.Writer
	maxSize  int
	log      *slog.Logger

	asks sync.WaitGroup // calls waiting for approval

	failOnce   sync.Once
	clientGone chan struct{} // closed when the client can no longer be written to
}

func newRelay(e *enforcer.Engine, toServer, toClient io.Writer, maxSize int, log *slog.Logger) *relay {
	r := &relay{
		engine: e, toClient: jsonrpc.NewWriter(toClient),
		maxSize: maxSize, log: log, clientGone: make(chan struct{}),
	}
	r.toServer = jsonrpc.NewWriter(auditFirst{r: r, w: toServer})
	return r
}

// auditFirst is the server's side of the relay: before anything is
// written to the server it writes the audit records the engine queued,
// which include the records of the messages about to be written. If they
// cannot be written, nothing is: the client gets errors instead.
type auditFirst struct {
	r *relay
	w io.Writer
}

func (a auditFirst) Write(p []byte) (int, error) {
	if err := a.r.engine.FlushAudit(); err != nil {
		for len(p) > 0 {
			var msg []byte
			msg, p, _ = bytes.Cut(p, []byte{'\n'})
			if reply := a.r.engine.Unsent(msg); reply != nil {
				a.r.queueClient(reply)
			}
		}
		return 0, fmt.Errorf("not forwarded: %w", err)
	}
	return a.w.Write(p)
}

// clientLoop reads the client until EOF or a read error, then waits for
// calls still waiting for approval. It decides each line on this
// goroutine, in order, and queues what it sends: a pipelined burst goes
// out in one write per side, and nothing is held once the client has no
// whole line buffered (see flushClientSide).
func (r *relay) clientLoop(ctx context.Context, in io.Reader) error {
	defer r.asks.Wait()
	defer r.flushClientSide()
	ctx = enforcer.WithAuditQueue(ctx) // auditFirst writes the records before the messages
	rd := jsonrpc.NewReader(in, r.maxSize)
	for {
		if !rd.Ready() {
			r.flushClientSide() // the next read may block
		}
		line, err := rd.NextShared()
		switch {
		case err == nil:
			if r.clientLine(ctx, line) {
				rd.Keep() // a pending verdict still refers to line
			}
		case errors.Is(err, jsonrpc.ErrTooLarge):
			r.log.Warn("refused an oversized message from the client", "err", err)
			r.replyOversize(err)
		case errors.Is(err, io.EOF):
			return nil
		default:
			return fmt.Errorf("read client: %w", err)
		}
	}
}

// clientLine decides one client line and queues the verdict; a call
// waiting for approval is settled in its own goroutine, and clientLine
// reports true: the verdict keeps referring to line.
func (r *relay) clientLine(ctx context.Context, line []byte) bool {
	v := r.engine.HandleRequest(ctx, line)
	if !v.Pending() {
		r.queue(v)
		return false
	}
	r.asks.Go(func() { r.send(v.Wait(ctx)) })
	return true
}

// queue queues a verdict's messages. The engine has queued the audit
// record of the decision already, and auditFirst writes it before the
// forwarded message.
func (r *relay) queue(v enforcer.Verdict) {
	if v.Forward != nil {
		if err := r.toServer.Queue(v.Forward); err != nil {
			r.log.Warn("could not write to the server", "err", err)
		}
	}
	if v.Reply != nil {
		r.queueClient(v.Reply)
	}
}

// send writes a verdict's messages at once (with anything queued before
// them), for a settled approval.
func (r *relay) send(v enforcer.Verdict) {
	r.flushAudit()
	if v.Forward != nil {
		if err := r.toServer.WriteMessage(v.Forward); err != nil {
			r.log.Warn("could not write to the server", "err", err)
		}
	}
	if v.Reply != nil {
		r.queueClient(v.Reply)
	}
	r.clientFailed(r.toClient.Flush()) // with the errors for what was not forwarded
}

// flushClientSide writes what clientLoop queued: the audit records, then
// the messages to both sides.
func (r *relay) flushClientSide() {
	r.flushAudit()
	if err := r.toServer.Flush(); err != nil {
		r.log.Warn("could not write to the server", "err", err)
	}
	r.clientFailed(r.toClient.Flush())
}

// flushAudit writes the queued audit records, the records of refusals
// included (auditFirst writes them too, before anything reaches the
// server, and answers for what it cannot forward).
func (r *relay) flushAudit() {
	if err := r.engine.FlushAudit(); err != nil {
		r.log.Error("could not write the audit log", "err", err)
	}
}

func (r *relay) queueClient(msg []byte) { r.clientFailed(r.toClient.Queue(msg)) }

// clientFailed stops the proxy on the first failed write to the client.
func (r *relay) clientFailed(err error) {
	if err != nil {
		r.failOnce.Do(func() {
			r.log.Warn("could not write to the client; stopping", "err", err)
			close(r.clientGone)
		})
	}
}

func (r *relay) replyOversize(err error) {
	msg, berr := jsonrpc.ErrorResponse(nil, codes.InvalidRequest, "",
		map[string]string{"reason": err.Error() + "; the message was not forwarded (see --max-message-size)"})
	if berr == nil {
		r.queueClient(msg)
	}
}

// serverLoop reads the server until EOF or a read error. Like clientLoop,
// it queues what it sends the client and flushes when the server has no
// whole line buffered.
func (r *relay) serverLoop(ctx context.Context, out io.Reader) error {
	defer func() { r.clientFailed(r.toClient.Flush()) }()
	rd := jsonrpc.NewReader(out, r.maxSize)
	for {
		if !rd.Ready() {
			r.clientFailed(r.toClient.Flush()) // the next read may block
		}
		line, err := rd.NextShared() // HandleResponse keeps no reference to line
		switch {
		case err == nil:
			if msg := r.engine.HandleResponse(ctx, line); msg != nil {
				r.queueClient(msg)
			}
		case errors.Is(err, jsonrpc.ErrTooLarge):
			r.log.Warn("dropped an oversized message from the server", "err", err)
			msg, berr := jsonrpc.ErrorResponse(nil, codes.InternalError, "",
				map[string]string{"reason": "the server sent a message over the size limit (" + err.Error() + "); it was dropped"})
			if berr == nil {
				r.queueClient(msg)
			}
		case errors.Is(err, io.EOF):
			return nil
		default:
			return fmt.Errorf("read server: %w", err)
		}
	}
}
