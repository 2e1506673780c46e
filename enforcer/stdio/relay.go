package stdio

import (
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
	return &relay{
		engine: e, toServer: jsonrpc.NewWriter(toServer), toClient: jsonrpc.NewWriter(toClient),
		maxSize: maxSize, log: log, clientGone: make(chan struct{}),
	}
}

// clientLoop reads the client until EOF or a read error, then waits for
// calls still waiting for approval.
func (r *relay) clientLoop(ctx context.Context, in io.Reader) error {
	defer r.asks.Wait()
	rd := jsonrpc.NewReader(in, r.maxSize)
	for {
		line, err := rd.Next()
		switch {
		case err == nil:
			r.clientLine(ctx, line)
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

// clientLine decides one client line; a call waiting for approval is
// settled in its own goroutine.
func (r *relay) clientLine(ctx context.Context, line []byte) {
	v := r.engine.HandleRequest(ctx, line)
	if !v.Pending() {
		r.send(v)
		return
	}
	r.asks.Go(func() { r.send(v.Wait(ctx)) })
}

func (r *relay) send(v enforcer.Verdict) {
	if v.Forward != nil {
		if err := r.toServer.WriteMessage(v.Forward); err != nil {
			r.log.Warn("could not write to the server", "err", err)
		}
	}
	if v.Reply != nil {
		r.writeClient(v.Reply)
	}
}

func (r *relay) writeClient(msg []byte) {
	if err := r.toClient.WriteMessage(msg); err != nil {
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
		r.writeClient(msg)
	}
}

// serverLoop reads the server until EOF or a read error.
func (r *relay) serverLoop(ctx context.Context, out io.Reader) error {
	rd := jsonrpc.NewReader(out, r.maxSize)
	for {
		line, err := rd.Next()
		switch {
		case err == nil:
			if msg := r.engine.HandleResponse(ctx, line); msg != nil {
				r.writeClient(msg)
			}
		case errors.Is(err, jsonrpc.ErrTooLarge):
			r.log.Warn("dropped an oversized message from the server", "err", err)
			msg, berr := jsonrpc.ErrorResponse(nil, codes.InternalError, "",
				map[string]string{"reason": "the server sent a message over the size limit (" + err.Error() + "); it was dropped"})
			if berr == nil {
				r.writeClient(msg)
			}
		case errors.Is(err, io.EOF):
			return nil
		default:
			return fmt.Errorf("read server: %w", err)
		}
	}
}
