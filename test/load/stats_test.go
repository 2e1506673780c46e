package load

import (
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	d := make([]time.Duration, 1000)
	for i := range d {
		d[len(d)-1-i] = time.Duration(i+1) * time.Millisecond // 1..1000 ms, reversed
	}
	s := summarize(d)
	want := []time.Duration{500 * time.Millisecond, 900 * time.Millisecond, 990 * time.Millisecond, 999 * time.Millisecond}
	for i, w := range want {
		if s.Values[i] != w {
			t.Errorf("q%.3f = %s, want %s", quantiles[i], s.Values[i], w)
		}
	}
	if s.Max != time.Second || s.N != 1000 {
		t.Errorf("max %s n %d", s.Max, s.N)
	}
	if e := summarize(nil); e.N != 0 || e.Max != 0 {
		t.Errorf("empty: %+v", e)
	}
}

func TestJudgeMemory(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name    string
		rss     []int64 // one sample every 10s
		ok      bool
		noteHas string
	}{
		{"flat", []int64{20 * mb, 40 * mb, 41 * mb, 42 * mb}, true, "within"},
		{"growth within 32 MiB", []int64{20 * mb, 40 * mb, 60 * mb, 71 * mb}, true, "within"},
		{"leak", []int64{20 * mb, 40 * mb, 80 * mb, 120 * mb}, false, "OVER"},
		{"ratio bound for a large heap", []int64{400 * mb, 400 * mb, 450 * mb, 490 * mb}, true, "within"},
		{"too short to judge", []int64{20 * mb, 90 * mb}, true, "not judged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Config: Config{Warmup: 10 * time.Second}.withDefaults()}
			r.Config.Warmup = 10 * time.Second
			for i, v := range tt.rss {
				r.Memory = append(r.Memory, memSample{At: time.Duration(i) * 10 * time.Second, RSS: v})
			}
			r.judgeMemory()
			if r.MemoryOK != tt.ok || !strings.Contains(r.MemoryNote, tt.noteHas) {
				t.Fatalf("ok=%v note=%q; want ok=%v and %q", r.MemoryOK, r.MemoryNote, tt.ok, tt.noteHas)
			}
		})
	}
}

func TestGCTrace(t *testing.T) {
	g := &gcTrace{}
	if h, _ := g.last(); h != -1 {
		t.Fatalf("before any line: %d", h)
	}
	_, _ = g.Write([]byte(`{"level":"INFO","msg":"serving"}` + "\ngc 1 @0.010s 2%: 0.01+1.2+0.02 ms clock, 0.02+0.5/1/0+0.04 ms cpu, 4->5->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\ngc 2 @0.5s 1%: 0.01+1+0.01 ms clock, 0.1 ms cpu, 6->6->"))
	if h, n := g.last(); h != 3<<20 || n != 1 {
		t.Fatalf("after one line: %d bytes, %d GCs", h, n)
	}
	_, _ = g.Write([]byte("2 MB, 7 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"))
	if h, n := g.last(); h != 2<<20 || n != 2 {
		t.Fatalf("after a line split across writes: %d bytes, %d GCs", h, n)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Rate: -1, Duration: time.Millisecond, Concurrency: 1, Sessions: 2}.withDefaults().validate()
	for _, want := range []string{"rate:", "duration:", "sessions:", "enforcer:", "redis server:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want it to name %q", err, want)
		}
	}
}
