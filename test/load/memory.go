package load

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is one look at the enforcer's memory.
type memSample struct {
	At time.Duration // since the start of the load
	// RSS is the resident set size from /proc/PID/status (VmRSS).
	RSS int64
	// LiveHeap is the Go heap live after the last collection (from the
	// runtime's GC trace); -1 before the first collection.
	LiveHeap int64
	// HeapAlloc is go_memstats_heap_alloc_bytes from /metrics, -1 when
	// the enforcer does not export it.
	HeapAlloc int64
	GCs       int
	// CPU is the enforcer's user+system CPU time so far, and LoadCPU the
	// generator's own (client, issuer and upstream run in it).
	CPU, LoadCPU time.Duration
}

// gcTrace reads GODEBUG=gctrace=1 lines ("gc 12 @3.4s 1%: ... 4->5->2 MB,
// ...") from the enforcer's stderr and keeps the last live heap.
type gcTrace struct {
	mu       sync.Mutex
	partial  []byte
	liveHeap int64 // bytes; -1 before the first line
	count    int
	seen     bool
}

var gcLine = regexp.MustCompile(`^gc \d+ @.* (\d+)->(\d+)->(\d+) MB`)

func (g *gcTrace) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.partial = append(g.partial, p...)
	for {
		i := bytes.IndexByte(g.partial, '\n')
		if i < 0 {
			break
		}
		if m := gcLine.FindSubmatch(g.partial[:i]); m != nil {
			mb, _ := strconv.ParseInt(string(m[3]), 10, 64)
			g.liveHeap, g.count, g.seen = mb<<20, g.count+1, true
		}
		g.partial = g.partial[i+1:]
	}
	if len(g.partial) > 64<<10 { // a line that never ends: drop it
		g.partial = g.partial[:0]
	}
	return len(p), nil
}

func (g *gcTrace) last() (int64, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.seen {
		return -1, 0
	}
	return g.liveHeap, g.count
}

// sampleMemory looks at the enforcer now.
func (s *stack) sampleMemory(at time.Duration) (memSample, error) {
	rss, err := procRSS(s.enforcer.pid())
	if err != nil {
		return memSample{}, err
	}
	heap, gcs := s.gc.last()
	return memSample{At: at, RSS: rss, LiveHeap: heap, HeapAlloc: metricHeapAlloc(s.enfURL), GCs: gcs,
		CPU: procCPU(strconv.Itoa(s.enforcer.pid())), LoadCPU: procCPU("self")}, nil
}

// procCPU reads utime+stime of /proc/PID/stat (in USER_HZ, 100 on Linux);
// 0 when unreadable.
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command (in parentheses, which may hold spaces).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// procRSS reads VmRSS of pid, in bytes.
func procRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read enforcer memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// metricHeapAlloc scrapes go_memstats_heap_alloc_bytes, -1 when absent.
func metricHeapAlloc(base string) int64 {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_alloc_bytes "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return int64(v)
			}
		}
	}
	return -1
}
