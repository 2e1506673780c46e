package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// Headers passed between the client and the server; everything else
// (the token, the proof, cookies, hop-by-hop headers) stays here.
var (
	requestHeaders  = []string{"Accept", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id", headerMcpMethod, headerMcpName, "User-Agent"}
	responseHeaders = []string{"Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Cache-Control"}
)

// serveMCP is the MCP endpoint: POST (messages), GET (the server's
// stream) and DELETE (end of session), each authenticated first.
func (s *Server) serveMCP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	s.metrics.requests.WithLabelValues(method(r.Method)).Inc()
	defer func() { s.metrics.duration.WithLabelValues(method(r.Method)).Observe(s.now().Sub(start).Seconds()) }()
	switch r.Method {
	case http.MethodPost, http.MethodGet, http.MethodDelete:
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.hashes.observe(s.now())
	var body []byte
	var in inspection
	if r.Method == http.MethodPost {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		if err != nil {
			d := badRequest("the request body could not be read or is larger than the limit")
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				d.status = http.StatusRequestEntityTooLarge
			}
			s.deny(w, r, nil, "", nil, d)
			return
		}
		in = inspect(body)
		if d := in.checkHeaders(r.Header); d != nil {
			s.deny(w, r, in.id, in.method, nil, d)
			return
		}
	}
	c, d := s.auth.authenticate(r, body)
	if d != nil {
		s.deny(w, r, in.id, in.method, nil, d)
		return
	}
	// The request is read; what follows (a stream, an approval) may take
	// longer than read_timeout, which would otherwise cancel it.
	if err := http.NewResponseController(w).SetReadDeadline(time.Time{}); err != nil {
		s.log.Warn("cannot lift the read deadline; long calls may be cut at read_timeout", "err", err)
	}
	id := c.identity()
	r = r.WithContext(enforcer.WithCaller(r.Context(), id))
	if r.Method != http.MethodPost {
		s.metrics.decision("allow", "")
		s.forward(w, r, nil, new(idMap))
		return
	}
	if d := in.checkCapabilities(id.Grants); d != nil {
		s.deny(w, r, in.id, in.method, c, d)
		return
	}
	s.handlePost(w, r, body, in.msg)
}

// handlePost runs the Engine on the body (m: as inspect parsed it) and
// forwards what it allows.
func (s *Server) handlePost(w http.ResponseWriter, r *http.Request, body []byte, m *jsonrpc.Message) {
	ctx := r.Context()
	ids := new(idMap)
	v := s.engine.HandleRequest(ctx, s.ids.rename(body, m, ids))
	if v.Pending() {
		v = v.Wait(ctx)
	}
	reply := ids.restore(v.Reply)
	if v.Forward == nil {
		s.metrics.decision("deny", "policy")
		w.Header().Set("Content-Type", "application/json")
		if reply == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		_, _ = w.Write(reply)
		return
	}
	if reply != nil {
		s.metrics.decision("deny", "policy")
	}
	s.metrics.decision("allow", "")
	s.forward(w, r, v.Forward, ids, reply)
}

// forward sends the request upstream and relays the response through the
// Engine. extra are replies (refused batch elements) to add to it.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, body []byte, ids *idMap, extra ...[]byte) {
	if s.child != nil {
		s.forwardChild(w, r, body, ids, extra...)
		return
	}
	ctx := r.Context()
	defer s.release(ctx, ids)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	up, err := http.NewRequestWithContext(ctx, r.Method, s.cfg.UpstreamURL, rd)
	if err != nil {
		s.upstreamFailed(w, r, err)
		return
	}
	for _, h := range requestHeaders {
		if vs := r.Header.Values(h); len(vs) > 0 {
			up.Header[http.CanonicalHeaderKey(h)] = vs
		}
	}
	resp, err := s.upstream.RoundTrip(up) //nolint:gosec // G704: the URL is the operator's upstream.url, never the client's
	if err != nil {
		s.upstreamFailed(w, r, err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	for _, h := range responseHeaders {
		if vs := resp.Header.Values(h); len(vs) > 0 {
			w.Header()[http.CanonicalHeaderKey(h)] = vs
		}
	}
	f := func(ctx context.Context, msg []byte) []byte { return ids.restore(s.engine.HandleResponse(ctx, msg)) }
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "text/event-stream":
		err = relaySSE(ctx, w, resp.StatusCode, prependEvents(extra, resp.Body), s.cfg.MaxBodyBytes, f)
	case "application/json":
		err = relayJSON(ctx, w, resp.StatusCode, resp.Body, s.cfg.MaxBodyBytes, func(ctx context.Context, msg []byte) []byte {
			return mergeReplies(f(ctx, msg), extra)
		})
	default:
		w.WriteHeader(resp.StatusCode)
		_, err = io.Copy(w, io.LimitReader(resp.Body, s.cfg.MaxBodyBytes))
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("relaying the upstream response failed", "method", r.Method, "err", err)
	}
}

// release clears the Engine's record of requests the server never
// answered (a closed stream, an upstream error), so their ids do not stay
// reserved.
func (s *Server) release(ctx context.Context, ids *idMap) {
	for _, id := range ids.pending() {
		msg, _ := jsonrpc.ErrorResponse(id, codes.InternalError, codes.InternalError.Message(), nil)
		_ = s.engine.HandleResponse(context.WithoutCancel(ctx), msg)
	}
}

func (s *Server) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	s.log.Error("upstream MCP server unreachable", "err", err)
	s.metrics.decision("deny", reasonUpstream)
	d := &denial{status: http.StatusBadGateway, code: codes.InternalError, label: reasonUpstream,
		reason: "the MCP server behind the enforcer could not be reached"}
	d.write(w, nil, s.challenge())
}

// deny answers a refusal decided before the Engine, counts and audits it.
// id and method are the JSON-RPC request's, empty when the body was not
// read or is not a single request.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, id json.RawMessage, method string, c *caller, d *denial) {
	s.refused(r, id, method, c, d)
	d.write(w, id, s.challenge())
}

// refused counts, audits and logs a refusal decided before the Engine.
// The audit record's method is the JSON-RPC method, never the HTTP one.
func (s *Server) refused(r *http.Request, id json.RawMessage, method string, c *caller, d *denial) {
	s.metrics.decision("deny", d.label)
	rec := audit.Record{Timestamp: s.now(), Direction: audit.Upstream, Decision: audit.Block, Violation: true,
		Method: method, FailedRule: "identity", Reason: d.reason, Code: d.code, PolicyHash: s.engine.Policy().Hash()}
	if len(id) <= 128 {
		rec.RequestID = string(id)
	}
	if c != nil {
		c.identity().Identify(&rec)
	}
	if s.audit != nil {
		if _, err := s.audit.Append(rec); err != nil {
			s.log.Error("audit log write failed", "err", err)
		}
	}
	s.log.Info("request refused", "http_method", r.Method, "code", int(d.code), "reason", d.label, "token_error", d.tokenError)
}

// prependEvents puts replies (refused batch elements) before the stream.
func prependEvents(replies [][]byte, body io.Reader) io.Reader {
	if len(replies) == 0 || replies[0] == nil {
		return body
	}
	var b bytes.Buffer
	for _, r := range replies {
		b.WriteString("data: ")
		b.Write(r)
		b.WriteString("\n\n")
	}
	return io.MultiReader(&b, body)
}

// mergeReplies joins the server's JSON response with the sidecar's
// replies into one batch.
func mergeReplies(resp []byte, replies [][]byte) []byte {
	if len(replies) == 0 || replies[0] == nil {
		return resp
	}
	all := [][]byte{}
	for _, m := range append([][]byte{resp}, replies...) {
		m = bytes.TrimSpace(m)
		if len(m) > 1 && m[0] == '[' {
			m = m[1 : len(m)-1]
		}
		if len(m) > 0 {
			all = append(all, m)
		}
	}
	return joinArray(all)
}
