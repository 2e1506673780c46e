package stdio

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
)

func auditEngine(t *testing.T, w *audit.Writer) *enforcer.Engine {
	t.Helper()
	doc, err := policy.Parse([]byte(proxyPolicy))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Compile(doc, policy.Options{HomeDir: "/home/agent", WorkDir: "/work"})
	if err != nil {
		t.Fatal(err)
	}
	approve := approverFunc(func(context.Context, approval.Request) (bool, error) { return true, nil })
	e, err := enforcer.New(enforcer.Config{Policy: p, Audit: w,
		Gate: approval.NewGate(approval.GateConfig{Approver: approve, Timeout: 5 * time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestProxyAuditBeforeForward: when the server receives a request, the
// request's audit record is in the audit file already, for calls sent one
// by one, in a pipelined burst (whose records are written together) and
// after an approval. The echo server reads the file as it receives each
// call and answers "audited".
func TestProxyAuditBeforeForward(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := audit.Open(path, audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	cmd, env := echoCommand()
	s := startProxyConfig(t, Config{Engine: auditEngine(t, w), Command: cmd, Env: append(env, echoAuditEnv+"="+path)})

	call := func(id int, tool string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{"i":%d}}}`, id, tool, id) + "\n"
	}
	expect := func(ids ...int) {
		t.Helper()
		for _, id := range ids {
			got := s.recv()
			if !strings.Contains(got, fmt.Sprintf(`"id":%d,`, id)) || !strings.Contains(got, `"audited":true`) {
				t.Fatalf("reply %s; want id %d, audited before the server received it", got, id)
			}
		}
	}
	for id := 1; id <= 3; id++ { // one by one
		s.send(strings.TrimSuffix(call(id, "echo"), "\n"))
		expect(id)
	}
	var burst strings.Builder
	for id := 10; id < 60; id++ {
		burst.WriteString(call(id, "echo"))
	}
	if _, err := s.in.Write([]byte(burst.String())); err != nil {
		t.Fatal(err)
	}
	for id := 10; id < 60; id++ {
		expect(id)
	}
	s.send(strings.TrimSuffix(call(70, "deploy"), "\n")) // ask: approved
	expect(70)
}

// switchWriter fails every write once fail is set.
type switchWriter struct {
	fail atomic.Bool
}

func (w *switchWriter) Write(p []byte) (int, error) {
	if w.fail.Load() {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// lockedBuffer collects the child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProxyAuditFailureNotForwarded: once the audit log cannot be
// written, nothing more reaches the server, queued calls included, and
// each call is answered with the audit error.
func TestProxyAuditFailureNotForwarded(t *testing.T) {
	out := &switchWriter{}
	stderr := &lockedBuffer{}
	cmd, env := echoCommand()
	s := startProxyConfig(t, Config{Engine: auditEngine(t, audit.NewWriter(out, audit.Config{})),
		Command: cmd, Env: append(env, echoLogEnv+"=1"), Stderr: stderr})
	s.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":"hello"}}}`)
	if got := s.recv(); !strings.Contains(got, "hello") {
		t.Fatalf("first call answered %s", got)
	}
	out.fail.Store(true)
	var burst strings.Builder
	for id := 2; id <= 6; id++ {
		fmt.Fprintf(&burst, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{}}}`+"\n", id)
	}
	if _, err := s.in.Write([]byte(burst.String())); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 5 {
		got := s.recv()
		if !strings.Contains(got, `"code":-32603`) || !strings.Contains(got, "audit log unavailable") {
			t.Fatalf("call with a broken audit log answered %s; want the audit error", got)
		}
		seen[got[strings.Index(got, `"id":`):][:6]] = true
	}
	if len(seen) != 5 {
		t.Fatalf("answers %v; want one for each of the 5 calls", seen)
	}
	_ = s.in.Close()
	if r := s.wait(); r.err != nil {
		t.Fatal(r.err)
	}
	log := stderr.String()
	if !strings.Contains(log, "received 1\n") {
		t.Fatalf("server log %q lacks the first call", log)
	}
	for id := 2; id <= 6; id++ {
		if strings.Contains(log, fmt.Sprintf("received %d\n", id)) {
			t.Fatalf("server received call %d, whose audit record was never written; log %q", id, log)
		}
	}
}
