package stdio

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
)

// roundTripStats is what one sub-benchmark measured.
type roundTripStats struct {
	p50, p99   time.Duration
	throughput float64 // calls per second, pipelined
}

// BenchmarkStdioRoundTrip measures tools/call round trips to the echo
// server, directly and through the enforcer (DLP and audit on), in the
// same run: per-call latency (p50, p99) of sequential calls, and the
// throughput of b.N calls pipelined (written while responses are read).
func BenchmarkStdioRoundTrip(b *testing.B) {
	var direct, enforced roundTripStats
	b.Run("direct", func(b *testing.B) {
		cmd, env := echoCommand()
		c := exec.Command(cmd[0])
		c.Env = env
		in, err := c.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		out, err := c.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = in.Close(); _ = c.Wait() }()
		direct = measure(b, in, bufio.NewReaderSize(out, 1<<16))
	})
	b.Run("enforcer", func(b *testing.B) {
		e := benchEngine(b)
		cmd, env := echoCommand()
		p, err := New(Config{Engine: e, Command: cmd, Env: env})
		if err != nil {
			b.Fatal(err)
		}
		// OS pipes on the client side too, as a real client has.
		inR, inW, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = p.Run(context.Background(), inR, outW)
			_ = outW.Close()
		}()
		defer func() { _ = inW.Close(); <-done }()
		enforced = measure(b, inW, bufio.NewReaderSize(outR, 1<<16))
	})
	if direct.p50 > 0 && enforced.p50 > 0 {
		b.Logf("added p50 %v (direct %v, enforcer %v); added p99 %v; pipelined throughput %.0f/s = %.0f%% of direct %.0f/s",
			enforced.p50-direct.p50, direct.p50, enforced.p50, enforced.p99-direct.p99,
			enforced.throughput, 100*enforced.throughput/direct.throughput, direct.throughput)
	}
}

// BenchmarkEngineRoundTrip is the proxy's work on one call of
// BenchmarkStdioRoundTrip without the pipes and processes: the engine on
// the request (audit record written to a file first) and on the echo
// server's response. Its allocs/op, and instructions under valgrind, do
// not depend on the machine's load.
func BenchmarkEngineRoundTrip(b *testing.B) {
	e := benchEngine(b)
	ctx := enforcer.WithAuditQueue(context.Background())
	call := benchCall(1)
	call = call[:len(call)-1]
	resp := []byte(`{"id":1,"jsonrpc":"2.0","result":{"content":[{"text":"{\"path\":\"/work/notes/today.txt\",\"text\":\"hello from the benchmark, nothing secret here\"}","type":"text"}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		v := e.HandleRequest(ctx, call)
		if err := e.FlushAudit(); err != nil || v.Forward == nil {
			b.Fatal(err, string(v.Reply))
		}
		if e.HandleResponse(ctx, resp) == nil {
			b.Fatal("response dropped")
		}
	}
}

func benchEngine(b *testing.B) *enforcer.Engine {
	b.Helper()
	doc, err := policy.Parse([]byte(proxyPolicy))
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Compile(doc, policy.Options{HomeDir: "/home/agent", WorkDir: "/work"})
	if err != nil {
		b.Fatal(err)
	}
	w, err := audit.Open(filepath.Join(b.TempDir(), "audit.jsonl"), audit.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	e, err := enforcer.New(enforcer.Config{Policy: p, Audit: w})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchCall(id int) []byte {
	return []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(id) +
		`,"method":"tools/call","params":{"name":"echo","arguments":{"path":"/work/notes/today.txt","text":"hello from the benchmark, nothing secret here"}}}` + "\n")
}

// measure runs b.N sequential calls, then b.N pipelined calls.
func measure(b *testing.B, w io.Writer, r *bufio.Reader) roundTripStats {
	b.Helper()
	roundTrip := func(id int) {
		if _, err := w.Write(benchCall(id)); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ReadSlice('\n'); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 200 { // warm up: process start, caches
		roundTrip(-1 - i)
	}
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		roundTrip(i)
		lat[i] = time.Since(start)
	}
	b.StopTimer()
	slices.Sort(lat)
	st := roundTripStats{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}

	n := max(b.N, 2000)
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := w.Write(benchCall(b.N + i)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for range n {
		if _, err := r.ReadSlice('\n'); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	st.throughput = float64(n) / time.Since(start).Seconds()
	b.ReportMetric(float64(st.p50.Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(st.p99.Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(st.throughput, "pipelined-calls/s")
	return st
}
