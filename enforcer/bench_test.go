package enforcer

import (
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/internal/audit"
)

// BenchmarkEngineCall is the engine's own cost for one tools/call and its
// response (DLP on), with and without the audit log.
func BenchmarkEngineCall(b *testing.B) {
	for _, withAudit := range []bool{false, true} {
		name := "no-audit"
		if withAudit {
			name = "audit"
		}
		b.Run(name, func(b *testing.B) {
			cfg := Config{Policy: compileTest(b, "enforce", "block"), Gate: approval.NewGate(approval.GateConfig{})}
			if withAudit {
				cfg.Audit = audit.NewWriter(io.Discard, audit.Config{})
			}
			e, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				id := strconv.Itoa(i)
				v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/work/notes/today.txt","text":"hello from the benchmark"}}}`))
				if v.Forward == nil {
					b.Fatal(string(v.Reply))
				}
				if e.HandleResponse(ctx, []byte(`{"jsonrpc":"2.0","id":`+id+`,"result":{"content":[{"type":"text","text":"{\"path\":\"/work/notes/today.txt\",\"text\":\"hello from the benchmark\"}"}]}}`)) == nil {
					b.Fatal("response dropped")
				}
			}
		})
	}
}
