package enforcer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/internal/audit"
)

// With WithAuditQueue, records wait for FlushAudit; when it fails, Unsent
// answers every request of what was admitted and releases its id.
func TestAuditQueue(t *testing.T) {
	buf := &syncBuffer{}
	fail := false
	w := audit.NewWriter(writerFunc(func(p []byte) (int, error) {
		if fail {
			return 0, errDiskFull
		}
		return buf.Write(p)
	}), audit.Config{})
	e, err := New(Config{Policy: compileTest(t, "enforce", "block"), Audit: w,
		Gate: approval.NewGate(approval.GateConfig{Timeout: time.Second})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithAuditQueue(context.Background())

	v := e.HandleRequest(ctx, []byte(toolCall(1, "read_file", `{"path":"/work/a"}`)))
	if v.Forward == nil {
		t.Fatalf("call refused: %s", v.Reply)
	}
	if buf.String() != "" {
		t.Fatal("the record was written before FlushAudit; want it queued")
	}
	if err := e.FlushAudit(); err != nil {
		t.Fatal(err)
	}
	if recs := buf.records(t); len(recs) != 1 || recs[0].RequestID != "1" {
		t.Fatalf("after FlushAudit: %+v; want the record of call 1", recs)
	}

	batch := `[` + toolCall(2, "read_file", `{"path":"/work/b"}`) + `,{"jsonrpc":"2.0","method":"notifications/initialized"},` +
		toolCall(3, "read_file", `{"path":"/work/c"}`) + `]`
	v = e.HandleRequest(ctx, []byte(batch))
	if v.Forward == nil {
		t.Fatalf("batch refused: %s", v.Reply)
	}
	fail = true
	if err := e.FlushAudit(); err == nil {
		t.Fatal("FlushAudit on a failing log: want an error")
	}
	reply := string(e.Unsent(v.Forward))
	for _, want := range []string{`"id":2,`, `"id":3,`, `"code":-32603`, "audit log unavailable"} {
		if !strings.Contains(reply, want) {
			t.Errorf("Unsent = %s; lacks %s", reply, want)
		}
	}
	if strings.Count(reply, `"code"`) != 2 {
		t.Errorf("Unsent = %s; want an error for each of the 2 requests (none for the notification)", reply)
	}
	for _, id := range []string{"2", "3"} {
		if _, ok := e.pending.take([]byte(id)); ok {
			t.Errorf("id %s still reserved after Unsent", id)
		}
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var errDiskFull = errors.New("disk full")
