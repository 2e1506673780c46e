package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testRequest(args string) Request {
	return Request{Tool: "deploy", Arguments: json.RawMessage(args), ArgsSHA256: "h-" + args, PolicyHash: "p1", Policy: "unit"}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	got := filepath.Join(dir, "stdin.json")
	tests := []struct {
		name    string
		cmd     string
		timeout time.Duration
		want    bool
		wantErr bool
	}{
		{name: "exit 0 approves", cmd: "exit 0", want: true},
		{name: "exit 1 denies", cmd: "exit 1"},
		{name: "exit 2 denies", cmd: "exit 2"},
		{name: "request on stdin", cmd: "cat > " + got + "; grep -q '\"tool\":\"deploy\"' " + got, want: true},
		{name: "killed at the timeout", cmd: "sleep 30", timeout: 200 * time.Millisecond, wantErr: true},
		{name: "missing program denies", cmd: "/nonexistent/approver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			var out bytes.Buffer
			start := time.Now()
			ok, err := (&Command{Cmd: tc.cmd, Output: &out}).Approve(ctx, testRequest(`{"env":"prod"}`))
			if ok != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("Approve = %v, %v; want %v, error %v (output %q)", ok, err, tc.want, tc.wantErr, out.String())
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("approver not stopped in time: %v", time.Since(start))
			}
		})
	}
}

type countingApprover struct {
	calls   atomic.Int32
	answer  bool
	release chan struct{}
}

func (c *countingApprover) Approve(ctx context.Context, _ Request) (bool, error) {
	c.calls.Add(1)
	if c.release != nil {
		select {
		case <-c.release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return c.answer, nil
}

func TestGate(t *testing.T) {
	tests := []struct {
		name      string
		answer    bool
		block     bool
		timeout   time.Duration
		want      Outcome
		wantCalls int32 // after asking the same request twice
	}{
		{name: "approval remembered", answer: true, want: Approved, wantCalls: 1},
		{name: "denial not remembered", answer: false, want: Denied, wantCalls: 2},
		{name: "timeout", block: true, timeout: 50 * time.Millisecond, want: TimedOut, wantCalls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &countingApprover{answer: tc.answer}
			if tc.block {
				a.release = make(chan struct{})
			}
			g := NewGate(GateConfig{Approver: a, Timeout: tc.timeout})
			for range 2 {
				if got := g.Ask(context.Background(), testRequest(`{}`)); got != tc.want {
					t.Fatalf("Ask = %v; want %v", got, tc.want)
				}
			}
			if n := a.calls.Load(); n != tc.wantCalls {
				t.Fatalf("approver called %d times; want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestGateScopeAndCoalescing(t *testing.T) {
	a := &countingApprover{answer: true, release: make(chan struct{})}
	g := NewGate(GateConfig{Approver: a, Timeout: 5 * time.Second})
	var wg sync.WaitGroup
	results := make([]Outcome, 3)
	for i := range results {
		wg.Go(func() { results[i] = g.Ask(context.Background(), testRequest(`{"a":1}`)) })
	}
	time.Sleep(50 * time.Millisecond)
	close(a.release)
	wg.Wait()
	for i, r := range results {
		if r != Approved {
			t.Fatalf("ask %d: %v", i, r)
		}
	}
	if n := a.calls.Load(); n != 1 {
		t.Fatalf("identical concurrent asks asked %d times; want 1", n)
	}
	other := testRequest(`{"a":2}`)
	g.Ask(context.Background(), other)
	otherPolicy := testRequest(`{"a":1}`)
	otherPolicy.PolicyHash = "p2"
	g.Ask(context.Background(), otherPolicy)
	if n := a.calls.Load(); n != 3 {
		t.Fatalf("approver called %d times; an approval must cover only the same tool, arguments and policy", n)
	}
}

func TestNoApprover(t *testing.T) {
	if got := NewGate(GateConfig{}).Ask(context.Background(), testRequest(`{}`)); got != Denied {
		t.Fatalf("Ask without approver = %v; want denied", got)
	}
	missing := filepath.Join(t.TempDir(), "no-tty")
	if TTYAvailable(missing) {
		t.Fatal("TTYAvailable true for a missing device")
	}
	if _, err := (&TTY{Path: missing}).Approve(context.Background(), testRequest(`{}`)); err == nil {
		t.Fatal("TTY approved without a terminal")
	}
	_ = os.Remove(missing)
}
