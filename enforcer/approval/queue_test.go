package approval

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	tests := []struct {
		name     string
		cfg      QueueConfig
		settle   *bool // nil: the context ends
		want     bool
		wantErr  error
		wantArgs bool
	}{
		{name: "approved", settle: new(true), want: true},
		{name: "denied", settle: new(false)},
		{name: "context ends", wantErr: context.DeadlineExceeded},
		{name: "arguments shown when configured", cfg: QueueConfig{ShowArguments: true}, settle: new(true), want: true, wantArgs: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQueue(tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			type result struct {
				ok  bool
				err error
			}
			done := make(chan result, 1)
			go func() {
				ok, err := q.Approve(ctx, testRequest(`{"env":"prod"}`))
				done <- result{ok, err}
			}()
			var list []Pending
			for deadline := time.Now().Add(2 * time.Second); len(list) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				list = q.List()
			}
			if len(list) != 1 || (list[0].Arguments != nil) != tt.wantArgs || list[0].ExpiresAt.IsZero() {
				t.Fatalf("pending %+v", list)
			}
			if tt.settle != nil {
				if _, err := q.Settle(list[0].ID, *tt.settle); err != nil {
					t.Fatal(err)
				}
			}
			r := <-done
			if r.ok != tt.want || !errors.Is(r.err, tt.wantErr) {
				t.Fatalf("Approve = %v, %v; want %v, %v", r.ok, r.err, tt.want, tt.wantErr)
			}
			if n := len(q.List()); n != 0 {
				t.Fatalf("%d approvals still pending", n)
			}
			if _, err := q.Settle(list[0].ID, true); !errors.Is(err, ErrUnknownApproval) {
				t.Fatalf("Settle after the end = %v", err)
			}
		})
	}
}

func TestQueueFull(t *testing.T) {
	q := NewQueue(QueueConfig{MaxPending: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = q.Approve(ctx, testRequest(`{}`)) }()
	for deadline := time.Now().Add(2 * time.Second); len(q.List()) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if ok, err := q.Approve(ctx, testRequest(`{"b":1}`)); ok || !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Approve on a full queue = %v, %v", ok, err)
	}
}

// An approval covers one agent and user: another's identical call is
// asked again.
func TestGateScopedToCaller(t *testing.T) {
	a := &countingApprover{answer: true}
	g := NewGate(GateConfig{Approver: a})
	req := func(agent, user string) Request {
		r := testRequest(`{}`)
		r.Agent, r.User, r.Arguments = agent, user, json.RawMessage(`{}`)
		return r
	}
	for _, r := range []Request{req("a", "u"), req("a", "u"), req("b", "u"), req("a", "v")} {
		g.Ask(context.Background(), r)
	}
	if n := a.calls.Load(); n != 3 {
		t.Fatalf("approver asked %d times; want 3 (once per agent and user)", n)
	}
}
