package policy

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit is a rate: N calls per Per.
type Limit struct {
	N   int
	Per time.Duration
}

func (l Limit) String() string {
	switch l.Per {
	case time.Second:
		return strconv.Itoa(l.N) + "/second"
	case time.Minute:
		return strconv.Itoa(l.N) + "/minute"
	case time.Hour:
		return strconv.Itoa(l.N) + "/hour"
	}
	return strconv.Itoa(l.N) + "/" + l.Per.String()
}

// ParseLimit parses "N/second|sec|s|minute|min|m|hour|hr|h", N ≥ 1.
func ParseLimit(s string) (Limit, error) {
	ns, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err != nil || n < 1 {
		return Limit{}, fmt.Errorf("rate limit %q: want N/unit with N ≥ 1, e.g. 10/minute", s)
	}
	var per time.Duration
	switch strings.ToLower(strings.TrimSpace(unit)) {
	case "second", "sec", "s":
		per = time.Second
	case "minute", "min", "m":
		per = time.Minute
	case "hour", "hr", "h":
		per = time.Hour
	default:
		return Limit{}, fmt.Errorf("rate limit %q: unit must be second, minute or hour", s)
	}
	return Limit{N: n, Per: per}, nil
}

type rateScopeKey struct{}

// WithRateScope returns ctx whose tools/call rate limits are counted per
// agent: the limiter key becomes "agent/<agentID>/tool/<tool>" (both parts
// path-escaped, so no two pairs share a key) instead of the tool alone.
// The HTTP sidecar sets it from the verified token, so a shared (Redis)
// limiter gives each agent its own budget per tool; an empty agentID
// leaves ctx as is (the stdio proxy: one agent, keys are tool names).
func WithRateScope(ctx context.Context, agentID string) context.Context {
	if agentID == "" {
		return ctx
	}
	return context.WithValue(ctx, rateScopeKey{}, agentID)
}

// RateKey is the limiter key of a call to tool (normalized) under ctx:
// the tool name, or "agent/<id>/tool/<tool>" when WithRateScope set an
// agent.
func RateKey(ctx context.Context, tool string) string {
	agent, _ := ctx.Value(rateScopeKey{}).(string)
	if agent == "" {
		return tool
	}
	return "agent/" + url.PathEscape(agent) + "/tool/" + url.PathEscape(tool)
}

// RateLimiter decides whether one more call under key fits limit. An error
// means the limiter could not decide; the engine then denies (fails closed).
// The sidecar supplies a Redis implementation shared by all enforcers.
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit Limit) (bool, error)
}

var _ RateLimiter = (*MemoryLimiter)(nil)

// MemoryLimiter is an in-process limiter per key (GCRA: a burst of N calls,
// one more every Per/N). Safe for concurrent use.
type MemoryLimiter struct {
	now func() time.Time

	mu  sync.Mutex
	tat map[string]time.Time // theoretical arrival time per key
}

// NewMemoryLimiter returns a limiter reading time from now (time.Now when
// nil).
func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{now: now, tat: make(map[string]time.Time)}
}

// Allow admits one more call under key if it fits limit.
func (m *MemoryLimiter) Allow(_ context.Context, key string, limit Limit) (bool, error) {
	if limit.N < 1 || limit.Per <= 0 {
		return false, fmt.Errorf("invalid rate limit %v", limit)
	}
	interval := limit.Per / time.Duration(limit.N)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if next.Sub(now) > limit.Per {
		return false, nil
	}
	m.tat[key] = next
	return true, nil
}
