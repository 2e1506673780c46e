package nonce

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxEntries bounds a Memory store: at the default DPoP replay TTL
// of 80 s, about 13,000 calls a second.
const DefaultMaxEntries = 1 << 20

// MemoryConfig configures a Memory store.
type MemoryConfig struct {
	// MaxEntries is the most jtis remembered at once; zero means
	// DefaultMaxEntries. When it is reached, Record fails with
	// ErrUnavailable rather than forget a live jti (which would let a
	// replay through).
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Memory is a Store for a single process. Entries expire with their TTL;
// each Record first drops the expired entries at the head of an
// insertion-ordered queue, so cleanup is O(1) amortized. It is safe for
// concurrent use.
type Memory struct {
	max int
	now func() time.Time
	// horizon is when the store was made: it holds every record since.
	horizon time.Time

	mu    sync.Mutex
	seen  map[string]time.Time // jti -> expiry
	queue []entry              // insertion order; queue[head:] is live
	head  int
}

type entry struct {
	jti string
	exp time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{max: cfg.MaxEntries, now: cfg.Now, horizon: cfg.Now(), seen: make(map[string]time.Time)}
}

// Record implements Store. The horizon is the store's creation: a jti
// issued before the process started may have been seen by the process
// before it.
func (m *Memory) Record(_ context.Context, jti string, issued time.Time, ttl time.Duration) error {
	if err := checkArgs(jti, ttl); err != nil {
		return err
	}
	if beforeHorizon(issued, m.horizon, ttl) {
		return ErrBeforeHorizon
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if exp, ok := m.seen[jti]; ok && now.Before(exp) {
		return ErrReplayed
	}
	if len(m.seen) >= m.max {
		return fmt.Errorf("record nonce: %w: %d live entries", ErrUnavailable, len(m.seen))
	}
	exp := now.Add(ttl)
	m.seen[jti] = exp
	m.queue = append(m.queue, entry{jti: jti, exp: exp})
	return nil
}

// Len returns the number of entries held, expired ones not yet dropped
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}

// expire drops expired entries from the head of the queue. With one TTL
// for all (the usual case) the queue is in expiry order and everything
// expired goes; with mixed TTLs an entry may wait behind a longer-lived
// one, bounded by MaxEntries. Record ignores expired entries either way.
func (m *Memory) expire(now time.Time) {
	for m.head < len(m.queue) && !now.Before(m.queue[m.head].exp) {
		e := m.queue[m.head]
		m.queue[m.head] = entry{}
		m.head++
		// The jti may have been recorded again after it expired.
		if exp, ok := m.seen[e.jti]; ok && !now.Before(exp) {
			delete(m.seen, e.jti)
		}
	}
	if m.head > 1024 && m.head*2 >= len(m.queue) {
		n := copy(m.queue, m.queue[m.head:])
		clear(m.queue[n:])
		m.queue, m.head = m.queue[:n], 0
	}
}
