package sidecar

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of the upstream connection pool.
const (
	// upstreamMaxIdle is how many idle connections to the upstream are
	// kept for reuse: enough for concurrent agents without redialing.
	upstreamMaxIdle = 64
	// upstreamIdleTimeout closes connections idle longer than this (as
	// net/http's default transport does).
	upstreamIdleTimeout = 90 * time.Second
	// upstreamDialTimeout bounds connecting to the upstream.
	upstreamDialTimeout = 10 * time.Second
	// upstreamMaxHeaderBytes bounds a response's status line and headers
	// (the body is bounded by max_body_bytes as it is relayed).
	upstreamMaxHeaderBytes = 1 << 20
)

// errTransportClosed is returned by a round trip after Close.
var errTransportClosed = errors.New("upstream transport closed")

// upstreamTransport is the http.RoundTripper for a plain-HTTP upstream:
// HTTP/1.1 over a pool of keep-alive connections, each exchange done on
// the calling goroutine. It writes the request and reads the response
// head itself, and the response body reads from the connection directly.
//
// net/http's Transport hands every request to a writer goroutine and
// every response back from a reader goroutine. On an idle machine each
// handoff wakes a thread, and those wake-ups cost more than the
// enforcer's own work on a call (docs/benchmarks.md): a sidecar in front
// of a loopback server pays them on every call. What net/http's reader
// goroutine also does, noticing that the server closed an idle
// connection, is done here by a non-blocking peek before each reuse.
//
// Only the upstream's scheme and host are used: requests name the one
// upstream URL the operator configured. HTTPS upstreams and proxies go
// through net/http's Transport (newUpstreamClient).
type upstreamTransport struct {
	addr   string // host:port
	dialer net.Dialer
	now    func() time.Time

	mu     sync.Mutex
	idle   []*upstreamConn // most recently used last
	closed bool
}

// upstreamConn is one connection to the upstream.
type upstreamConn struct {
	nc net.Conn
	// lim is what br reads from: nc, limited to upstreamMaxHeaderBytes
	// while a response head is read.
	lim      *io.LimitedReader
	br       *bufio.Reader
	bw       *bufio.Writer
	idleFrom time.Time
}

// newUpstreamClient returns the transport the sidecar forwards with: the
// synchronous one for a plain-HTTP upstream reached without a proxy,
// net/http's for the rest. closeIdle releases its idle connections (and,
// for the synchronous transport, refuses later requests: the sidecar calls
// it when it closes).
func newUpstreamClient(rawURL string) (rt http.RoundTripper, closeIdle func()) {
	u, err := url.Parse(rawURL)
	if err == nil && u.Scheme == "http" && !proxied(u) {
		t := newUpstreamTransport(u)
		return t, t.Close
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// One upstream host: keep enough idle connections for concurrent
	// agents instead of the default 2 (which redials under load).
	tr.MaxIdleConnsPerHost = upstreamMaxIdle
	return tr, tr.CloseIdleConnections
}

// proxied reports whether the environment (HTTP_PROXY, NO_PROXY) sends
// requests to u through a proxy.
func proxied(u *url.URL) bool {
	p, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	return err != nil || p != nil
}

func newUpstreamTransport(u *url.URL) *upstreamTransport {
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &upstreamTransport{
		addr:   addr,
		dialer: net.Dialer{Timeout: upstreamDialTimeout, KeepAlive: 30 * time.Second},
		now:    time.Now,
	}
}

// RoundTrip sends req on an idle or new connection and reads the
// response head. The body, when there is one, reads from the connection:
// reading it to the end (or closing it after the end) gives the
// connection back to the pool; closing it before, a read error or the
// request's context ending closes the connection.
func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if err != nil && req.Body != nil {
		_ = req.Body.Close() // a RoundTripper always closes the body
	}
	return resp, err
}

func (t *upstreamTransport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		return nil, fmt.Errorf("upstream transport: unsupported scheme %q", req.URL.Scheme)
	}
	ctx := req.Context()
	c, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	// The context ending unblocks the exchange (and a body being read)
	// through the connection's deadline; the connection is then closed.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = c.nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	c.lim.N = upstreamMaxHeaderBytes
	resp, err := http.ReadResponse(c.br, req)
	// Informational responses (103 Early Hints) precede the real one.
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp, err = http.ReadResponse(c.br, req)
	}
	if err != nil {
		if c.lim.N <= 0 {
			err = fmt.Errorf("upstream response head larger than %d bytes", upstreamMaxHeaderBytes)
		}
		return fail(err)
	}
	c.lim.N = math.MaxInt64
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return fail(errors.New("upstream switched protocols"))
	}
	keep := !resp.Close && !req.Close
	if resp.Body == http.NoBody {
		t.done(c, stop, keep)
		return resp, nil
	}
	resp.Body = &upstreamBody{rc: resp.Body, t: t, c: c, stop: stop, keep: keep, ctx: ctx}
	return resp, nil
}

// conn returns an idle connection that the server has not closed, or a
// new one.
func (t *upstreamTransport) conn(ctx context.Context) (*upstreamConn, error) {
	now := t.now()
	for {
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			return nil, errTransportClosed
		}
		n := len(t.idle)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		t.mu.Unlock()
		if now.Sub(c.idleFrom) < upstreamIdleTimeout && c.br.Buffered() == 0 && alive(c.nc) {
			return c, nil
		}
		_ = c.nc.Close()
	}
	nc, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	lim := &io.LimitedReader{R: nc, N: math.MaxInt64}
	return &upstreamConn{nc: nc, lim: lim, br: bufio.NewReaderSize(lim, 8<<10), bw: bufio.NewWriterSize(nc, 8<<10)}, nil
}

// done ends an exchange on c: the connection goes back to the pool when
// keep is true and the context did not end it, else it is closed.
func (t *upstreamTransport) done(c *upstreamConn, stop func() bool, keep bool) {
	if !stop() { // the context ended: the deadline is (being) set
		keep = false
	}
	if keep {
		c.idleFrom = t.now()
		t.mu.Lock()
		if !t.closed && len(t.idle) < upstreamMaxIdle {
			t.idle = append(t.idle, c)
			c = nil
		}
		t.mu.Unlock()
	}
	if c != nil {
		_ = c.nc.Close()
	}
}

// CloseIdleConnections closes the pooled connections; exchanges in
// progress finish and close theirs.
func (t *upstreamTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		_ = c.nc.Close()
	}
}

// Close closes the idle connections and refuses later round trips.
func (t *upstreamTransport) Close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.CloseIdleConnections()
}

// upstreamBody is a response body read from the connection; see
// upstreamTransport.RoundTrip.
type upstreamBody struct {
	rc   io.ReadCloser
	t    *upstreamTransport
	c    *upstreamConn
	stop func() bool
	keep bool
	ctx  context.Context
	// finished is set by whichever of the end of the body, a read error
	// or Close comes first; it alone disposes of the connection.
	finished atomic.Bool
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case errors.Is(err, io.EOF):
		b.finish(b.keep)
	case err != nil:
		b.finish(false)
		if b.ctx.Err() != nil {
			err = b.ctx.Err()
		}
	}
	return n, err
}

// Close closes the connection unless the body was read to its end.
func (b *upstreamBody) Close() error {
	b.finish(false)
	return nil
}

func (b *upstreamBody) finish(keep bool) {
	if b.finished.Swap(true) {
		return
	}
	b.t.done(b.c, b.stop, keep)
}
