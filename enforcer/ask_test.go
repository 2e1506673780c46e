package enforcer

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
)

func TestAsk(t *testing.T) {
	tests := []struct {
		name      string
		approver  approval.Approver
		wantCode  int // 0: forwarded
		wantAudit string
	}{
		{name: "approved", approver: approverFunc(func(context.Context, approval.Request) (bool, error) { return true, nil }), wantAudit: "ALLOW"},
		{name: "denied", approver: approverFunc(func(context.Context, approval.Request) (bool, error) { return false, nil }), wantCode: -32004, wantAudit: "BLOCK"},
		{name: "approver error", approver: approverFunc(func(context.Context, approval.Request) (bool, error) { return true, errors.New("boom") }), wantCode: -32004, wantAudit: "BLOCK"},
		{name: "no approver", approver: nil, wantCode: -32004, wantAudit: "BLOCK"},
		{name: "timeout", approver: approverFunc(func(ctx context.Context, _ approval.Request) (bool, error) {
			<-ctx.Done()
			return false, ctx.Err()
		}), wantCode: -32005, wantAudit: "BLOCK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, compileTest(t, "enforce", "block"), tc.approver)
			v := e.HandleRequest(context.Background(), []byte(toolCall(1, "deploy", `{"env":"prod"}`)))
			if !v.Pending() || v.Forward != nil || v.Reply != nil {
				t.Fatalf("ask verdict %+v; want pending with nothing to send yet", v)
			}
			if n := len(e.audit.records(t)); n != 0 {
				t.Fatalf("%d audit records before the ask settled; want 0", n)
			}
			v = v.Wait(context.Background())
			if tc.wantCode == 0 && v.Forward == nil {
				t.Fatalf("approved call not forwarded: reply %s", v.Reply)
			}
			if tc.wantCode != 0 && (v.Forward != nil || errorCode(t, v.Reply) != tc.wantCode) {
				t.Fatalf("forward %s reply %s; want code %d", v.Forward, v.Reply, tc.wantCode)
			}
			recs := e.audit.records(t)
			if len(recs) != 1 || string(recs[0].Decision) != tc.wantAudit || recs[0].Tool != "deploy" {
				t.Fatalf("audit %+v; want one %s record for deploy", recs, tc.wantAudit)
			}
		})
	}
}

// An ask waits without blocking other calls, and an approval covers the
// same tool with the same canonical arguments only.
func TestAskDoesNotBlockAndIsScoped(t *testing.T) {
	release := make(chan struct{})
	var asked atomic.Int32
	a := approverFunc(func(ctx context.Context, req approval.Request) (bool, error) {
		asked.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		return req.Tool == "deploy", nil
	})
	e := newTestEngine(t, compileTest(t, "enforce", "block"), a)
	e.cfg.Gate = approval.NewGate(approval.GateConfig{Approver: a, Timeout: 5 * time.Second})
	ctx := context.Background()
	pending := e.HandleRequest(ctx, []byte(toolCall(1, "deploy", `{"env":"prod","n":1}`)))
	done := make(chan Verdict)
	go func() { done <- pending.Wait(ctx) }()

	if v := e.HandleRequest(ctx, []byte(toolCall(2, "read_file", `{"path":"/work/x"}`))); v.Forward == nil {
		t.Fatal("a call was held up by a pending ask")
	}
	close(release)
	if v := <-done; v.Forward == nil {
		t.Fatalf("ask not approved: %s", v.Reply)
	}
	// Same arguments, other order and spacing: covered by the approval.
	v := e.HandleRequest(ctx, []byte(toolCall(3, "deploy", `{ "n":1.0e0, "env":"prod" }`))).Wait(ctx)
	if v.Forward == nil || asked.Load() != 1 {
		t.Fatalf("same call asked again (asked %d times), reply %s", asked.Load(), v.Reply)
	}
	// Other arguments: asked again.
	e.HandleRequest(ctx, []byte(toolCall(4, "deploy", `{"env":"dev","n":1}`))).Wait(ctx)
	if asked.Load() != 2 {
		t.Fatalf("call with other arguments asked %d times in all; want 2", asked.Load())
	}
}
