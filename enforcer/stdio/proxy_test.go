package stdio

import (
	"context"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"

	"github.com/aip-project/aip/enforcer/approval"
)

func TestProxyRelay(t *testing.T) {
	tests := []struct {
		name string
		send string
		want []string // substrings of the one reply
		not  []string
	}{
		{name: "allowed call round trip", send: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":"hello"}}}`,
			want: []string{`"id":1`, `hello`}},
		{name: "secret redacted", send: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"k":"AKIAZ7QXW3JH5NB2LMKD"}}}`,
			want: []string{`[REDACTED:aws]`}, not: []string{"AKIAZ7QXW3JH5NB2LMKD"}},
		{name: "blocked tool", send: `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"exec","arguments":{}}}`,
			want: []string{`"id":3`, `"code":-32001`}},
		{name: "denied method", send: `{"jsonrpc":"2.0","id":4,"method":"resources/read"}`, want: []string{`"code":-32006`}},
		{name: "parse error", send: `{"jsonrpc":`, want: []string{`"id":null`, `"code":-32700`}},
		{name: "tools/list filtered", send: `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`, want: []string{`"echo"`}, not: []string{`"exec"`}},
	}
	s := startProxy(t, testEngine(t, nil), 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			s.send(tc.send)
			got := s.recv()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reply %s lacks %s", got, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("reply %s contains %s", got, n)
				}
			}
		})
	}
	s.t = t
	// Only the allowed messages reached the server: 3 forwarded + this one.
	s.send(`{"jsonrpc":"2.0","id":9,"method":"count"}`)
	if got := s.recv(); !strings.Contains(got, `"lines":4`) {
		t.Fatalf("server saw %s; want 4 lines (refused messages are never forwarded)", got)
	}
	_ = s.in.Close()
	if r := s.wait(); r.code != 0 || r.err != nil {
		t.Fatalf("after end of input: code %d, err %v; want 0", r.code, r.err)
	}
}

func TestProxyOversize(t *testing.T) {
	s := startProxy(t, testEngine(t, nil), 256)
	s.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":"` + strings.Repeat("a", 300) + `"}}}`)
	if got := s.recv(); !strings.Contains(got, `"code":-32600`) || !strings.Contains(got, "limit 256") {
		t.Fatalf("oversized message answered %s; want -32600 naming the limit", got)
	}
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"x":"small"}}}`)
	if got := s.recv(); !strings.Contains(got, "small") {
		t.Fatalf("connection did not go on after an oversized message: %s", got)
	}
}

func TestProxyExitCodes(t *testing.T) {
	tests := []struct {
		name string
		end  func(s *session)
		want int
	}{
		{name: "child exit code", end: func(s *session) { s.send(`{"jsonrpc":"2.0","id":1,"method":"exit","params":{"code":7}}`) }, want: 7},
		{name: "end of input", end: func(s *session) { _ = s.in.Close() }, want: 0},
		{name: "SIGINT forwarded", end: func(s *session) {
			if err := s.proxy.Signal(syscall.SIGINT); err != nil {
				s.t.Fatal(err)
			}
		}, want: 42},
		{name: "killed child", end: func(s *session) { _ = s.proxy.Signal(syscall.SIGKILL) }, want: 128 + 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startProxy(t, testEngine(t, nil), 0)
			s.send(`{"jsonrpc":"2.0","id":0,"method":"ping"}`)
			s.recv() // the child is up and relaying
			tc.end(s)
			if r := s.wait(); r.code != tc.want || r.err != nil {
				t.Fatalf("code %d err %v; want %d", r.code, r.err, tc.want)
			}
		})
	}
}

// A call waiting for approval does not hold up the calls after it.
func TestProxyAskDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	s := startProxy(t, testEngine(t, approverFunc(func(ctx context.Context, _ approval.Request) (bool, error) {
		select {
		case <-release:
			return true, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	})), 0)
	s.send(`{"jsonrpc":"2.0","id":"ask","method":"tools/call","params":{"name":"deploy","arguments":{"env":"prod"}}}`)
	s.send(`{"jsonrpc":"2.0","id":"fast","method":"tools/call","params":{"name":"echo","arguments":{}}}`)
	if got := s.recv(); !strings.Contains(got, `"id":"fast"`) {
		t.Fatalf("first reply %s; want the call after the pending ask", got)
	}
	close(release)
	if got := s.recv(); !strings.Contains(got, `"id":"ask"`) || !strings.Contains(got, "prod") {
		t.Fatalf("approved call answered %s", got)
	}
}

type approverFunc func(ctx context.Context, req approval.Request) (bool, error)

func (f approverFunc) Approve(ctx context.Context, req approval.Request) (bool, error) {
	return f(ctx, req)
}

// TestProxyBurst sends many calls in one write, with part of the next
// line: every reply comes back, in order, while the rest of that line is
// still to come (the proxy must not hold replies until its input drains).
func TestProxyBurst(t *testing.T) {
	s := startProxy(t, testEngine(t, nil), 0)
	var burst strings.Builder
	for i := range 50 {
		fmt.Fprintf(&burst, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"i":%d}}}`+"\n", i, i)
	}
	burst.WriteString(`{"jsonrpc":"2.0","id":`)
	if _, err := io.WriteString(s.in, burst.String()); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if got := s.recv(); !strings.Contains(got, fmt.Sprintf(`"id":%d,`, i)) {
			t.Fatalf("reply %d is %s; want id %d", i, got, i)
		}
	}
	s.send(`99,"method":"ping"}`)
	if got := s.recv(); !strings.Contains(got, `"id":99`) {
		t.Fatalf("reply %s; want id 99", got)
	}
}
