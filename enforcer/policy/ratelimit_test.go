package policy

import (
	"context"
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
		ok   bool
	}{
		{"10/minute", Limit{10, time.Minute}, true},
		{"5/s", Limit{5, time.Second}, true},
		{"5/sec", Limit{5, time.Second}, true},
		{"1/hr", Limit{1, time.Hour}, true},
		{"3/m", Limit{3, time.Minute}, true},
		{"7/H", Limit{7, time.Hour}, true},
		{"0/minute", Limit{}, false},
		{"-1/minute", Limit{}, false},
		{"10/day", Limit{}, false},
		{"ten/minute", Limit{}, false},
		{"10", Limit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLimit(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseLimit(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestMemoryLimiter(t *testing.T) {
	now := epoch
	l := NewMemoryLimiter(func() time.Time { return now })
	ctx := context.Background()
	limit := Limit{N: 3, Per: time.Second}
	steps := []struct {
		advance time.Duration
		key     string
		want    bool
	}{
		{0, "a", true}, {0, "a", true}, {0, "a", true},
		{0, "a", false},              // burst used up
		{0, "b", true},               // keys are independent
		{time.Second / 3, "a", true}, // one token back after Per/N
		{0, "a", false},              //
		{time.Second, "a", true},     // full again
		{0, "a", true}, {0, "a", true}, {0, "a", false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		got, err := l.Allow(ctx, s.key, limit)
		if err != nil || got != s.want {
			t.Fatalf("step %d: Allow = %v, %v; want %v", i, got, err, s.want)
		}
	}
	if _, err := l.Allow(ctx, "x", Limit{}); err == nil {
		t.Error("zero limit accepted")
	}
}

type keyRecorder struct{ keys []string }

func (k *keyRecorder) Allow(_ context.Context, key string, _ Limit) (bool, error) {
	k.keys = append(k.keys, key)
	return true, nil
}

func TestRateLimitScope(t *testing.T) {
	tests := []struct {
		name  string
		agent string
		want  string
	}{
		{"no scope (stdio) keys by tool", "", "limited_listed"},
		{"agent scope", "spiffe://example.org/agent/a", "agent/spiffe:%2F%2Fexample.org%2Fagent%2Fa/tool/limited_listed"},
		{"slashes cannot forge another pair", "a/tool/b", "agent/a%2Ftool%2Fb/tool/limited_listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &keyRecorder{}
			p := mustCompile(t, evalPolicy, Options{RateLimiter: rec})
			p.EvaluateToolCall(WithRateScope(context.Background(), tt.agent), "Limited_Listed", nil)
			if len(rec.keys) != 1 || rec.keys[0] != tt.want {
				t.Errorf("keys = %q, want [%q]", rec.keys, tt.want)
			}
		})
	}

	// One shared limiter: each agent has its own 2/minute budget.
	p := mustCompile(t, evalPolicy, Options{})
	a := WithRateScope(context.Background(), "agent-a")
	b := WithRateScope(context.Background(), "agent-b")
	for i := 0; i < 2; i++ {
		if d := p.EvaluateToolCall(a, "limited_listed", nil); d.Action != ActionAllow {
			t.Fatalf("agent a call %d: %+v", i, d)
		}
	}
	if d := p.EvaluateToolCall(a, "limited_listed", nil); d.Action != ActionDeny {
		t.Errorf("agent a third call: %+v", d)
	}
	if d := p.EvaluateToolCall(b, "limited_listed", nil); d.Action != ActionAllow {
		t.Errorf("agent b shares agent a's budget: %+v", d)
	}
}
