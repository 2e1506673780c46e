package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/internal/audit"
)

// maxErrorSamples bounds the error messages a Result keeps.
const maxErrorSamples = 10

// Result is what a run measured.
type Result struct {
	Config    Config
	Start     time.Time
	Elapsed   time.Duration // from the first scheduled call to the last answer
	Scheduled int
	// Dropped counts calls that could not even be queued: more than
	// Rate*5 calls waiting for a free slot. Each is an error.
	Dropped      int
	Outcomes     map[string]int
	Errors       int
	ErrorSamples []string
	Latency      latencies          // all calls, from their scheduled time
	ByKind       map[kind]latencies // per kind of call
	Memory       []memSample
	MemoryNote   string // how the memory bound was judged
	MemoryOK     bool
	AuditRecords int
	AuditErr     error
	StopErr      error // the stack did not stop cleanly
	LoadAvg      [2]string
}

// Failures lists why the run failed; empty means it passed.
func (r *Result) Failures() []string {
	var f []string
	if r.Errors > 0 {
		f = append(f, fmt.Sprintf("%d unexpected error(s)", r.Errors))
	}
	if !r.MemoryOK {
		f = append(f, "memory: "+r.MemoryNote)
	}
	if r.AuditErr != nil {
		f = append(f, fmt.Sprintf("audit log: %v", r.AuditErr))
	}
	if r.StopErr != nil {
		f = append(f, fmt.Sprintf("stopping the stack: %v", r.StopErr))
	}
	return f
}

// Run starts the stack, drives it for cfg.Duration and stops it.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "aip-load-")
		if err != nil {
			return nil, err
		}
		cfg.Dir = dir
	}
	if !cfg.KeepDir {
		defer os.RemoveAll(cfg.Dir)
	}
	s, err := startStack(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start the stack: %w", err)
	}
	res := &Result{Config: cfg, Outcomes: map[string]int{}, LoadAvg: [2]string{loadAvg(), ""}}
	runErr := res.drive(ctx, s)
	res.LoadAvg[1] = loadAvg()
	res.StopErr = s.close()
	if runErr != nil {
		return res, runErr
	}
	res.AuditRecords, res.AuditErr = verifyAudit(s.auditPath)
	return res, nil
}

func (r *Result) drive(ctx context.Context, s *stack) error {
	cfg := r.Config
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = cfg.Concurrency
	tr, err := agent.New(agent.Config{IssuerURL: s.issuerURL, Audience: audience, Key: s.key, LocalUser: localUser, Base: base})
	if err != nil {
		return err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "aip-load", Version: "1"}, nil)
	sessions := make([]*mcp.ClientSession, cfg.Sessions)
	for i := range sessions {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		sessions[i], err = client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: s.enfURL + "/mcp", HTTPClient: tr.Client(), MaxRetries: -1}, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("connect session %d through the enforcer: %w", i, err)
		}
		defer sessions[i].Close()
	}

	total := int(int64(cfg.Rate) * int64(cfg.Duration) / int64(time.Second))
	r.Scheduled = total
	lat := make([]time.Duration, total)
	done := make([]bool, total)
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, cfg.Rate*5)
	var (
		mu      sync.Mutex
		dropped atomic.Int64
		wg      sync.WaitGroup
	)
	for w := range cfg.Concurrency {
		wg.Go(func() {
			session := sessions[w%len(sessions)]
			for j := range jobs {
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				outcome, err := do(cctx, session, j.i)
				cancel()
				d := time.Since(j.due)
				mu.Lock()
				lat[j.i], done[j.i] = d, true
				if err != nil {
					r.Errors++
					if len(r.ErrorSamples) < maxErrorSamples {
						r.ErrorSamples = append(r.ErrorSamples, fmt.Sprintf("call %d: %v", j.i, err))
					}
				} else {
					r.Outcomes[outcome]++
				}
				mu.Unlock()
			}
		})
	}

	samplerDone := make(chan struct{})
	stopSampler := make(chan struct{})
	r.Start = time.Now().Add(50 * time.Millisecond)
	var sampleErr error
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(cfg.SampleEvery)
		defer tick.Stop()
		for {
			m, err := s.sampleMemory(time.Since(r.Start))
			if err != nil {
				sampleErr = err
				return
			}
			mu.Lock()
			r.Memory = append(r.Memory, m)
			mu.Unlock()
			select {
			case <-stopSampler:
				return
			case <-tick.C:
			}
		}
	}()

	// Open loop: call i is due at Start + i/Rate whatever the answers.
	for i := range total {
		due := r.Start.Add(time.Duration(int64(i) * int64(time.Second) / int64(cfg.Rate)))
		if d := time.Until(due); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- job{i: i, due: due}:
		default:
			dropped.Add(1)
		}
	}
	close(jobs)
	wg.Wait()
	r.Elapsed = time.Since(r.Start)
	close(stopSampler)
	<-samplerDone
	if m, err := s.sampleMemory(time.Since(r.Start)); err == nil {
		r.Memory = append(r.Memory, m)
	}
	if sampleErr != nil {
		return sampleErr
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run interrupted: %w", err)
	}
	r.Dropped = int(dropped.Load())
	if r.Dropped > 0 {
		r.Errors += r.Dropped
		r.ErrorSamples = append(r.ErrorSamples, fmt.Sprintf("%d call(s) dropped: more than %d waiting for a free slot", r.Dropped, cap(jobs)))
	}
	var all []time.Duration
	byKind := map[kind][]time.Duration{}
	for i, ok := range done {
		if ok {
			all = append(all, lat[i])
			byKind[kindOf(i)] = append(byKind[kindOf(i)], lat[i])
		}
	}
	r.Latency = summarize(all)
	r.ByKind = map[kind]latencies{}
	for k, d := range byKind {
		r.ByKind[k] = summarize(d)
	}
	r.judgeMemory()
	return nil
}

// judgeMemory compares the enforcer's RSS at the end with the first
// sample after the warm-up.
func (r *Result) judgeMemory() {
	cfg := r.Config
	var base *memSample
	for i := range r.Memory {
		if r.Memory[i].At >= cfg.Warmup {
			base = &r.Memory[i]
			break
		}
	}
	last := r.Memory[len(r.Memory)-1]
	if base == nil || base == &r.Memory[len(r.Memory)-1] {
		r.MemoryOK = true
		r.MemoryNote = fmt.Sprintf("not judged: no sample between the warm-up (%s) and the end", cfg.Warmup)
		return
	}
	bound := max(cfg.MaxGrowthBytes, int64(cfg.MaxGrowthRatio*float64(base.RSS)))
	growth := last.RSS - base.RSS
	r.MemoryOK = growth <= bound
	verb := "within"
	if !r.MemoryOK {
		verb = "OVER"
	}
	r.MemoryNote = fmt.Sprintf("RSS %s at %s (after the warm-up) -> %s at the end: %+.1f MiB, %s the bound of %.1f MiB",
		mib(base.RSS), base.At.Round(time.Second), mib(last.RSS), float64(growth)/(1<<20), verb, float64(bound)/(1<<20))
}

func verifyAudit(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rep, err := audit.Verify(f)
	if err != nil {
		return rep.Records, err
	}
	if rep.IncompleteTail {
		return rep.Records, errors.New("the log ends in an incomplete record after a clean stop")
	}
	return rep.Records, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
