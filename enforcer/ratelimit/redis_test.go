package ratelimit_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/enforcer/ratelimit"
	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) { os.Exit(env.Main(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newLimiter(t testing.TB, c redis.UniversalClient, now func() time.Time) *ratelimit.Redis {
	t.Helper()
	l, err := ratelimit.New(ratelimit.Config{Client: c, Prefix: "test:" + t.Name() + ":", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newLimiters returns the implementations that must behave alike: the
// in-memory GCRA of the policy package and this one, on one clock.
func newLimiters(t *testing.T, c redis.UniversalClient, now func() time.Time) map[string]policy.RateLimiter {
	return map[string]policy.RateLimiter{
		"memory": policy.NewMemoryLimiter(now),
		"redis":  newLimiter(t, c, now),
	}
}

func allow(t *testing.T, l policy.RateLimiter, key string, limit policy.Limit) bool {
	t.Helper()
	ok, err := l.Allow(context.Background(), key, limit)
	if err != nil {
		t.Fatalf("Allow(%s, %s): %v", key, limit, err)
	}
	return ok
}

// step is a call after the clock moved by advance, and its expected outcome.
type step struct {
	advance time.Duration
	key     string
	want    bool
}

// Redis decides exactly as the in-memory limiter, step by step.
func TestMatchesMemoryLimiter(t *testing.T) {
	r := env.Redis(t)
	perMinute := policy.Limit{N: 3, Per: time.Minute}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst then deny", []step{{0, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false}, {time.Second, "a", false}}},
		{"one token back per interval", []step{{0, "a", true}, {0, "a", true}, {0, "a", true}, {19 * time.Second, "a", false}, {time.Second, "a", true}, {0, "a", false}}},
		{"keys are independent", []step{{0, "a", true}, {0, "a", true}, {0, "a", true}, {0, "b", true}, {0, "a", false}, {0, "agent:bot|tool:x", true}}},
		{"full again after a period", []step{{0, "a", true}, {0, "a", true}, {0, "a", true}, {time.Minute, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			limiters := newLimiters(t, r.Client(t), c.Now)
			for i, s := range tt.steps {
				c.Advance(s.advance)
				for name, l := range limiters {
					if got := allow(t, l, s.key, perMinute); got != s.want {
						t.Fatalf("step %d (%s): %s allowed = %v, want %v", i, s.key, name, got, s.want)
					}
				}
			}
		})
	}
}

// Two enforcers share one budget, and concurrent calls never overshoot.
func TestSharedAndAtomic(t *testing.T) {
	r := env.Redis(t)
	a, b := newLimiter(t, r.Client(t), nil), newLimiter(t, r.Client(t), nil)
	limit := policy.Limit{N: 50, Per: time.Hour}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			for range 25 {
				ok, err := l.Allow(context.Background(), "agent:bot", limit)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 50 {
		t.Fatalf("%d of 200 calls allowed under 50/hour, want exactly 50", allowed.Load())
	}
}

// With the server's clock, the budget refills in real time.
func TestServerClock(t *testing.T) {
	r := env.Redis(t)
	l := newLimiter(t, r.Client(t), nil)
	limit := policy.Limit{N: 2, Per: 200 * time.Millisecond}
	n := 0
	for range 5 {
		if allow(t, l, "k", limit) {
			n++
		}
	}
	if n < 2 || n > 3 { // a third may fit if the machine is slow
		t.Fatalf("%d of 5 immediate calls allowed under 2/200ms", n)
	}
	time.Sleep(250 * time.Millisecond)
	if !allow(t, l, "k", limit) {
		t.Fatal("not allowed after the period passed")
	}
	// The key expires with the budget.
	time.Sleep(250 * time.Millisecond)
	if ttl := r.Client(t).PTTL(context.Background(), "test:"+t.Name()+":k").Val(); ttl != -2*time.Nanosecond && ttl > 0 {
		t.Fatalf("key still there (pttl %s) after the period", ttl)
	}
}

func TestInvalid(t *testing.T) {
	r := env.Redis(t)
	l := newLimiter(t, r.Client(t), nil)
	tests := []struct {
		name  string
		key   string
		limit policy.Limit
	}{
		{"zero N", "k", policy.Limit{N: 0, Per: time.Second}},
		{"zero Per", "k", policy.Limit{N: 1}},
		{"below a microsecond", "k", policy.Limit{N: 2_000_000, Per: time.Second}},
		{"empty key", "", policy.Limit{N: 1, Per: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := l.Allow(context.Background(), tt.key, tt.limit); err == nil || ok {
				t.Fatalf("Allow = %v, %v; want a refusal with an error", ok, err)
			}
		})
	}
	if _, err := ratelimit.New(ratelimit.Config{}); err == nil {
		t.Fatal("limiter without a client")
	}
}

// Redis down: every call is an error wrapping ErrUnavailable and not
// allowed; once it is back, calls are decided again.
func TestOutage(t *testing.T) {
	r := env.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	l := newLimiter(t, c, nil)
	limit := policy.Limit{N: 10, Per: time.Minute}
	if !allow(t, l, "k", limit) {
		t.Fatal("first call denied")
	}
	r.Stop(t)
	t.Cleanup(func() { r.Start(t) })
	ok, err := l.Allow(context.Background(), "k", limit)
	if ok || !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Fatalf("Allow with redis down = %v, %v; want false, ErrUnavailable", ok, err)
	}
	r.Start(t)
	if !allow(t, l, "k", limit) {
		t.Fatal("denied after redis came back")
	}
}

func BenchmarkAllow(b *testing.B) {
	r := env.Redis(b)
	l := newLimiter(b, r.Client(b), nil)
	limit := policy.Limit{N: 1_000_000, Per: time.Second}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.Allow(ctx, "agent:bench", limit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Allow(ctx, "agent:bench", limit); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
