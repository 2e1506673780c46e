package load

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteReport writes r as Markdown.
func WriteReport(w io.Writer, r *Result) error {
	var b strings.Builder
	cfg := r.Config
	verdict := "PASS"
	if len(r.Failures()) > 0 {
		verdict = "FAIL: " + strings.Join(r.Failures(), "; ")
	}
	fmt.Fprintf(&b, "# aip soak run, %s\n\n", r.Start.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "**%s**\n\n", verdict)
	fmt.Fprintf(&b, "## Setup\n\n")
	fmt.Fprintf(&b, "- rate %d calls/s (open loop: latency from each call's scheduled time), duration %s, at most %d calls in flight over %d MCP sessions\n",
		cfg.Rate, cfg.Duration, cfg.Concurrency, cfg.Sessions)
	fmt.Fprintf(&b, "- stack: issuer (in-process, local key, file store), `aip-enforcer serve` (the binary, plain loopback, Redis nonces/revocations/rate limits, audit log on), "+
		"redis-server, upstream MCP server (MCP Go SDK over Streamable HTTP, in-process); client: agent SDK (`identity/agent`, DPoP) under the MCP Go SDK client\n")
	fmt.Fprintf(&b, "- traffic: 80%% allowed tools/call (echo, add, write_note), 10%% tools/list, 5%% a tool outside the policy, 5%% an argument violation\n")
	fmt.Fprintf(&b, "- load average (1, 5, 15 min) at the start: %s; at the end: %s (2 cores, shared)\n\n", r.LoadAvg[0], r.LoadAvg[1])

	fmt.Fprintf(&b, "## Outcomes\n\n")
	done := 0
	for _, n := range r.Outcomes {
		done += n
	}
	fmt.Fprintf(&b, "%d calls scheduled, %d answered as expected, %d errors, in %s (%.0f calls/s achieved).\n\n",
		r.Scheduled, done, r.Errors, r.Elapsed.Round(time.Millisecond), float64(done+r.Errors-r.Dropped)/r.Elapsed.Seconds())
	fmt.Fprintf(&b, "| outcome | calls |\n| --- | ---: |\n")
	keys := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %d |\n", k, r.Outcomes[k])
	}
	fmt.Fprintf(&b, "| **unexpected errors** | %d |\n\n", r.Errors)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(e, "`", "'"))
	}
	if len(r.ErrorSamples) > 0 {
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "## Latency\n\nFrom each call's scheduled send time to its answer, through the agent SDK, the enforcer and the upstream.\n\n")
	b.WriteString("| calls | n | p50 | p90 | p99 | p99.9 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(name string, l latencies) {
		fmt.Fprintf(&b, "| %s | %d |", name, l.N)
		for _, v := range l.Values {
			fmt.Fprintf(&b, " %s |", ms(v))
		}
		fmt.Fprintf(&b, " %s |\n", ms(l.Max))
	}
	row("all", r.Latency)
	for k := range numKinds {
		if l, ok := r.ByKind[k]; ok {
			row(k.String(), l)
		}
	}
	fmt.Fprintf(&b, "\n## Enforcer memory\n\nSampled every %s: RSS from /proc/PID/status; live Go heap after the last collection from the runtime's GC trace (GODEBUG=gctrace=1); "+
		"heap alloc from /metrics when the enforcer exports it.\n\n", cfg.SampleEvery)
	b.WriteString("| at | RSS | live heap (GC trace) | heap alloc (/metrics) | GCs |\n| ---: | ---: | ---: | ---: | ---: |\n")
	for _, m := range r.Memory {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d |\n", m.At.Round(time.Second), mib(m.RSS), mib(m.LiveHeap), mib(m.HeapAlloc), m.GCs)
	}
	if n := len(r.Memory); n >= 2 && done > 0 {
		first, last := r.Memory[0], r.Memory[n-1]
		fmt.Fprintf(&b, "\nCPU over the run: the enforcer %s (%.0f µs a call), the generator with the client, issuer and upstream %s (%.0f µs a call).\n",
			(last.CPU - first.CPU).Round(10*time.Millisecond), float64((last.CPU-first.CPU).Microseconds())/float64(done),
			(last.LoadCPU - first.LoadCPU).Round(10*time.Millisecond), float64((last.LoadCPU-first.LoadCPU).Microseconds())/float64(done))
	}
	fmt.Fprintf(&b, "\nMemory bound: growth after the warm-up (%s) at most max(%.0f MiB, %.0f%% of the RSS then). %s.\n\n",
		cfg.Warmup, float64(cfg.MaxGrowthBytes)/(1<<20), cfg.MaxGrowthRatio*100, r.MemoryNote)
	fmt.Fprintf(&b, "## Audit log\n\n%d records, chain verified: %v.\n", r.AuditRecords, r.AuditErr == nil)
	if r.AuditErr != nil {
		fmt.Fprintf(&b, "Error: %v\n", r.AuditErr)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
