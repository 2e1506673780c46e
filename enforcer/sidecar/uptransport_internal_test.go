package sidecar

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it
// accepted.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(h)
	cs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func testTransport(t *testing.T, rawURL string) *upstreamTransport {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := newUpstreamTransport(u)
	t.Cleanup(tr.Close)
	return tr
}

// post sends body to url through tr and returns the status and body.
func post(t *testing.T, tr http.RoundTripper, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp.StatusCode, string(b)
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.URL.Query().Get("as") {
	case "chunked":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		_, _ = w.Write(b[len(b)/2:])
	case "empty":
		w.WriteHeader(http.StatusAccepted)
	case "close":
		w.Header().Set("Connection", "close")
		_, _ = w.Write(b)
	case "hints":
		w.Header().Set("Link", "</x>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = w.Write(b)
	default:
		_, _ = w.Write(b)
	}
}

func TestUpstreamTransportReusesConnections(t *testing.T) {
	srv := newCountingServer(t, echoHandler)
	tr := testTransport(t, srv.URL)
	for i, as := range []string{"", "chunked", "empty", "hints", "", "chunked"} {
		body := fmt.Sprintf(`{"n":%d}`, i)
		want, wantStatus := body, http.StatusOK
		if as == "empty" {
			want, wantStatus = "", http.StatusAccepted
		}
		status, got := post(t, tr, srv.URL+"/mcp?as="+as, body)
		if status != wantStatus || got != want {
			t.Fatalf("as=%q: got %d %q, want %d %q", as, status, got, wantStatus, want)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("sequential exchanges used %d connections, want 1", n)
	}
}

func TestUpstreamTransportConnectionClose(t *testing.T) {
	srv := newCountingServer(t, echoHandler)
	tr := testTransport(t, srv.URL)
	for range 3 {
		if status, got := post(t, tr, srv.URL+"/mcp?as=close", "x"); status != http.StatusOK || got != "x" {
			t.Fatalf("got %d %q", status, got)
		}
	}
	if n := srv.conns.Load(); n != 3 {
		t.Errorf("3 exchanges answered with Connection: close used %d connections, want 3", n)
	}
}

// A connection the server closed while it sat idle in the pool is not
// used: the request goes out on a new one.
func TestUpstreamTransportServerClosedIdle(t *testing.T) {
	srv := newCountingServer(t, echoHandler)
	tr := testTransport(t, srv.URL)
	post(t, tr, srv.URL+"/mcp", "a")
	srv.CloseClientConnections()
	// The FIN reaches the pooled connection's socket at once on loopback;
	// wait for the server to have closed it before the next request.
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.mu.Lock()
		c := tr.idle[0]
		tr.mu.Unlock()
		if !alive(c.nc) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pooled connection still looks alive after the server closed it")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, got := post(t, tr, srv.URL+"/mcp", "b"); status != http.StatusOK || got != "b" {
		t.Fatalf("after the server closed the idle connection: got %d %q", status, got)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("used %d connections, want 2", n)
	}
}

// A body closed before its end (an SSE stream the client left) closes
// the connection; the next exchange uses a new one.
func TestUpstreamTransportBodyClosedEarly(t *testing.T) {
	closed := make(chan struct{})
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("as") != "stream" {
			echoHandler(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the client closed the connection
		close(closed)
	})
	tr := testTransport(t, srv.URL)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/mcp?as=stream", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: 1\n" {
		t.Fatalf("first event: %q, %v", line, err)
	}
	_ = resp.Body.Close()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("closing the stream's body did not close the connection")
	}
	if status, got := post(t, tr, srv.URL+"/mcp", "next"); status != http.StatusOK || got != "next" {
		t.Fatalf("after the stream: got %d %q", status, got)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("used %d connections, want 2", n)
	}
}

// The request's context ending unblocks a body read and closes the
// connection.
func TestUpstreamTransportContextEndsStream(t *testing.T) {
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	tr := testTransport(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/mcp", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	errc := make(chan error, 1)
	go func() {
		_, err := resp.Body.Read(make([]byte, 64))
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("read after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the context did not unblock the body read")
	}
	tr.mu.Lock()
	n := len(tr.idle)
	tr.mu.Unlock()
	if n != 0 {
		t.Errorf("%d connections pooled after a cancelled stream, want 0", n)
	}
}

// A context already ended fails the exchange before anything is sent.
func TestUpstreamTransportContextEndedBeforeResponse(t *testing.T) {
	release := make(chan struct{})
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	defer close(release)
	tr := testTransport(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/mcp", strings.NewReader("x"))
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
}

func TestUpstreamTransportConcurrent(t *testing.T) {
	srv := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Millisecond) // overlap the exchanges
		echoHandler(w, r)
	})
	tr := testTransport(t, srv.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 32*20)
	for g := range 32 {
		wg.Go(func() {
			for i := range 20 {
				body := fmt.Sprintf("%d-%d", g, i)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
				resp, err := tr.RoundTrip(req)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if err != nil || string(b) != body {
					errs <- fmt.Errorf("got %q, want %q: %w", b, body, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.conns.Load(); n > 32 {
		t.Errorf("32 concurrent clients used %d connections, want at most 32", n)
	}
}

func TestUpstreamTransportErrors(t *testing.T) {
	srv := newCountingServer(t, echoHandler)
	tr := testTransport(t, srv.URL)
	req, _ := http.NewRequest(http.MethodPost, "https://"+srv.Listener.Addr().String()+"/mcp", strings.NewReader("x"))
	if _, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("https through the plain transport: %v", err)
	}
	tr.Close()
	req, _ = http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
	if _, err := tr.RoundTrip(req); !errors.Is(err, errTransportClosed) {
		t.Errorf("after Close: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	_ = l.Close()
	req, _ = http.NewRequest(http.MethodPost, down, strings.NewReader("x"))
	if _, err := testTransport(t, down).RoundTrip(req); err == nil {
		t.Error("an upstream that is down: no error")
	}
}

// An HTTPS upstream goes through net/http's transport.
func TestNewUpstreamClient(t *testing.T) {
	rt, closeIdle := newUpstreamClient("https://mcp.internal:8443/mcp")
	defer closeIdle()
	if _, ok := rt.(*http.Transport); !ok {
		t.Errorf("https upstream: transport %T, want *http.Transport", rt)
	}
	rt, closeIdle = newUpstreamClient("http://127.0.0.1:8080/mcp")
	defer closeIdle()
	if _, ok := rt.(*upstreamTransport); !ok {
		t.Errorf("loopback http upstream: transport %T, want *upstreamTransport", rt)
	}
}

// A response head larger than upstreamMaxHeaderBytes fails the exchange
// instead of growing memory.
func TestUpstreamTransportHugeHead(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		_, _ = bufio.NewReader(c).ReadString('\n') // the request line
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
		line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
		for range 2 * upstreamMaxHeaderBytes / len(line) {
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	}()
	url := "http://" + l.Addr().String()
	req, _ := http.NewRequest(http.MethodPost, url+"/mcp", strings.NewReader("x"))
	_, err = testTransport(t, url).RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a 2 MiB response head: %v, want a size error", err)
	}
}
