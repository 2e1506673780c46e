package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/stdio"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// errChildExited reports a call to a stdio upstream whose process is gone.
var errChildExited = errors.New("the MCP server process has exited")

// child is a stdio MCP server (upstream.command) that the sidecar starts
// and serves as Streamable HTTP: each POST's messages are written to the
// child's stdin, and the child's responses, through Engine.HandleResponse,
// go back to the waiting request by their (sidecar-renamed, so unique)
// id. Requests the server sends on its own are answered with an error
// (there is no client stream to carry them) and its notifications are
// dropped. It is never restarted: once it exits, readiness fails and
// calls get 502.
type child struct {
	proc   *stdio.Child
	w      *jsonrpc.Writer
	engine *enforcer.Engine
	log    *slog.Logger
	stop   context.CancelFunc

	mu      sync.Mutex
	waiting map[string]chan<- []byte // renamed id -> the request waiting for it
	exited  chan struct{}            // closed when the process has exited
	code    int                      // exit code, once exited
}

// startChild starts the server and the goroutines reading its output and
// waiting for its exit.
func startChild(command []string, stderr io.Writer, engine *enforcer.Engine, maxSize int, log *slog.Logger) (*child, error) {
	ctx, stop := context.WithCancel(context.Background())
	proc, err := stdio.StartChild(ctx, stdio.ChildConfig{Command: command, Stderr: stderr})
	if err != nil {
		stop()
		return nil, fmt.Errorf("upstream.command: %w", err)
	}
	c := &child{proc: proc, w: jsonrpc.NewWriter(proc.Stdin()), engine: engine, stop: stop,
		log: log.With("upstream_pid", proc.Pid()), waiting: map[string]chan<- []byte{}, exited: make(chan struct{})}
	c.log.Info("MCP server started (stdio upstream)", "command", command[0])
	read := make(chan struct{})
	go func() {
		defer close(read)
		c.readLoop(ctx, maxSize)
	}()
	go func() {
		code, err := proc.Wait()
		if err != nil {
			c.log.Error("waiting for the MCP server failed", "err", err)
		}
		_ = proc.CloseStdout()
		<-read
		c.mu.Lock()
		c.code = code
		close(c.exited)
		c.mu.Unlock()
		if ctx.Err() == nil {
			c.log.Error("the MCP server (stdio upstream) exited; calls now fail with 502 and /readyz with 503 until the enforcer is restarted", "code", code)
		}
	}()
	return c, nil
}

// readLoop passes each line of the server's output through the Engine and
// routes what comes out.
func (c *child) readLoop(ctx context.Context, maxSize int) {
	rd := jsonrpc.NewReader(c.proc.Stdout(), maxSize)
	for {
		line, err := rd.Next()
		switch {
		case err == nil:
			if out := c.engine.HandleResponse(ctx, line); out != nil {
				c.route(out)
			}
		case errors.Is(err, jsonrpc.ErrTooLarge):
			c.log.Warn("dropped an oversized message from the MCP server", "err", err)
		default:
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				c.log.Warn("reading the MCP server's output failed", "err", err)
			}
			return
		}
	}
}

// route delivers responses to their waiting requests, refuses the
// server's own requests and drops its notifications.
func (c *child) route(out []byte) {
	m, err := jsonrpc.Parse(out)
	if err != nil {
		return
	}
	msgs := []jsonrpc.Message{m}
	if m.Kind == jsonrpc.KindBatch {
		msgs = m.Batch
	}
	for i := range msgs {
		switch m := &msgs[i]; m.Kind {
		case jsonrpc.KindResponse:
			c.mu.Lock()
			ch, ok := c.waiting[string(m.ID)]
			delete(c.waiting, string(m.ID))
			c.mu.Unlock()
			if ok {
				ch <- m.Raw
			}
		case jsonrpc.KindRequest:
			c.log.Debug("refused a request from the MCP server: no client stream over a stdio upstream", "method", m.Method)
			reply, err := jsonrpc.ErrorResponse(m.ID, codes.MethodNotFound, "",
				map[string]string{"reason": "the aip enforcer does not relay server-initiated requests from a stdio upstream"})
			if err == nil {
				_ = c.w.WriteMessage(reply)
			}
		case jsonrpc.KindNotification:
			c.log.Debug("dropped a notification from the MCP server", "method", m.Method)
		}
	}
}

// call writes msg (one message or a batch, as the Engine forwards it; a
// batch one message a line) to the server and returns the responses to its requests, in no particular
// order. It returns early with what it has when ctx ends, and with
// errChildExited when the server is gone.
func (c *child) call(ctx context.Context, msg []byte) ([][]byte, error) {
	ids := requestIDs(msg)
	ch := make(chan []byte, len(ids))
	c.mu.Lock()
	select {
	case <-c.exited:
		c.mu.Unlock()
		return nil, errChildExited
	default:
	}
	for _, id := range ids {
		c.waiting[id] = ch
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		for _, id := range ids {
			delete(c.waiting, id)
		}
		c.mu.Unlock()
	}()
	for _, m := range splitBatch(msg) {
		if err := c.w.WriteMessage(oneLine(m)); err != nil {
			return nil, fmt.Errorf("%w: %w", errChildExited, err)
		}
	}
	out := make([][]byte, 0, len(ids))
	for len(out) < len(ids) {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-c.exited:
			return out, errChildExited
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	return out, nil
}

// alive reports whether the server still runs.
func (c *child) alive() error {
	select {
	case <-c.exited:
		c.mu.Lock()
		defer c.mu.Unlock()
		return fmt.Errorf("%w (exit code %d)", errChildExited, c.code)
	default:
		return nil
	}
}

// close stops the server (SIGTERM, then a kill after a grace period) and
// waits for it.
func (c *child) close() error {
	c.stop()
	_ = c.proc.Stdin().Close()
	<-c.exited
	return nil
}

// splitBatch returns the messages of a batch one by one: MCP over stdio
// carries one message a line, and servers of the current revisions do
// not accept batches.
func splitBatch(msg []byte) [][]byte {
	m, err := jsonrpc.Parse(msg)
	if err != nil || m.Kind != jsonrpc.KindBatch {
		return [][]byte{msg}
	}
	out := make([][]byte, 0, len(m.Batch))
	for _, e := range m.Batch {
		out = append(out, e.Raw)
	}
	return out
}

// requestIDs returns the ids of the requests in msg.
func requestIDs(msg []byte) []string {
	m, err := jsonrpc.Parse(msg)
	if err != nil {
		return nil
	}
	msgs := []jsonrpc.Message{m}
	if m.Kind == jsonrpc.KindBatch {
		msgs = m.Batch
	}
	var ids []string
	for _, m := range msgs {
		if m.Kind == jsonrpc.KindRequest {
			ids = append(ids, string(m.ID))
		}
	}
	return ids
}

// oneLine returns msg without line breaks (JSON allows them between
// tokens; the stdio framing does not).
func oneLine(msg []byte) []byte {
	if !bytes.ContainsAny(msg, "\r\n") {
		return msg
	}
	var b bytes.Buffer
	if err := json.Compact(&b, msg); err != nil {
		return msg
	}
	return b.Bytes()
}
