package token

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MemoryReplay is a single-process ReplayCache.
type MemoryReplay struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // jti -> expiry
}

var _ ReplayCache = (*MemoryReplay)(nil)

// Use implements ReplayCache.
func (m *MemoryReplay) Use(_ context.Context, jti string, ttl time.Duration) error {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	if exp, ok := m.seen[jti]; ok && now.Before(exp) {
		return ErrReplay
	}
	if len(m.seen) > 1024 {
		for k, exp := range m.seen {
			if !now.Before(exp) {
				delete(m.seen, k)
			}
		}
	}
	m.seen[jti] = now.Add(ttl)
	return nil
}

// RedisReplay is a ReplayCache shared by issuer replicas (SET NX PX).
type RedisReplay struct {
	Client redis.UniversalClient
	Prefix string // e.g. "aip:jti:"
}

var _ ReplayCache = RedisReplay{}

// Use implements ReplayCache; a Redis failure is an error (fail closed).
func (r RedisReplay) Use(ctx context.Context, jti string, ttl time.Duration) error {
	ok, err := r.Client.SetNX(ctx, r.Prefix+jti, 1, ttl).Result()
	if err != nil {
		return fmt.Errorf("record dpop jti: %w", err)
	}
	if !ok {
		return ErrReplay
	}
	return nil
}
