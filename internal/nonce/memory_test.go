package nonce_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/nonce"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestMemoryConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) (nonce.Store, func(time.Duration)) {
		c := newClock()
		return nonce.NewMemory(nonce.MemoryConfig{Now: c.Now}), c.Advance
	})
}

// The horizon is the store's creation: a jti issued in the ttl before it
// is refused (ErrBeforeHorizon, an ErrReplayed); one issued after, with
// no date, or so long before that its record would have expired (a clock
// that stepped back) is recorded.
func TestMemoryHorizon(t *testing.T) {
	c := newClock()
	start := c.Now()
	m := nonce.NewMemory(nonce.MemoryConfig{Now: c.Now})
	c.Advance(5 * time.Second)
	recordAt(t, m, "before", start.Add(-10*time.Second), time.Minute, nonce.ErrBeforeHorizon)
	recordAt(t, m, "before", start.Add(-10*time.Second), time.Minute, nonce.ErrReplayed)
	recordAt(t, m, "long-before", start.Add(-time.Hour), time.Minute, nil)
	recordAt(t, m, "long-before", start.Add(-time.Hour), time.Minute, nonce.ErrReplayed)
	recordAt(t, m, "same-second", start, time.Minute, nil)
	recordAt(t, m, "after", start.Add(2*time.Second), time.Minute, nil)
	recordAt(t, m, "undated", time.Time{}, time.Minute, nil)
}

// A full store refuses new jtis (fail closed) instead of forgetting live
// ones, and takes them again once entries expire.
func TestMemoryBounded(t *testing.T) {
	c := newClock()
	m := nonce.NewMemory(nonce.MemoryConfig{MaxEntries: 3, Now: c.Now})
	for i := range 3 {
		record(t, m, strconv.Itoa(i), time.Minute, nil)
	}
	record(t, m, "3", time.Minute, nonce.ErrUnavailable)
	record(t, m, "0", time.Minute, nonce.ErrReplayed) // still remembered
	c.Advance(time.Minute)
	record(t, m, "3", time.Minute, nil)
	if m.Len() != 1 {
		t.Fatalf("Len = %d after expiry, want 1", m.Len())
	}
}

// Expired entries are dropped as new ones come, so a steady load holds
// about rate × ttl entries, and a jti recorded again after it expired is
// not dropped by its earlier entry's expiry.
func TestMemoryCleanup(t *testing.T) {
	c := newClock()
	m := nonce.NewMemory(nonce.MemoryConfig{MaxEntries: 2000, Now: c.Now})
	for i := range 100_000 {
		record(t, m, strconv.Itoa(i), time.Second, nil)
		c.Advance(time.Millisecond)
	}
	if n := m.Len(); n > 1001 {
		t.Fatalf("Len = %d, want ≤ 1001 (1 s of entries)", n)
	}

	record(t, m, "again", time.Second, nil)
	c.Advance(time.Second)
	record(t, m, "again", time.Hour, nil)
	c.Advance(time.Millisecond)
	record(t, m, "x", time.Second, nil) // drops the first "again" entry
	record(t, m, "again", time.Hour, nonce.ErrReplayed)
}

func TestMemoryMixedTTL(t *testing.T) {
	c := newClock()
	m := nonce.NewMemory(nonce.MemoryConfig{Now: c.Now})
	record(t, m, "long", time.Hour, nil)
	record(t, m, "short", time.Second, nil)
	c.Advance(2 * time.Second)
	// "short" waits behind "long" in the queue but is expired all the same.
	record(t, m, "short", time.Second, nil)
	record(t, m, "long", time.Hour, nonce.ErrReplayed)
}

func BenchmarkMemoryRecord(b *testing.B) {
	m := nonce.NewMemory(nonce.MemoryConfig{})
	var n atomic.Int64
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Record(context.Background(), strconv.FormatInt(n.Add(1), 36), time.Time{}, 80*time.Millisecond); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				err := m.Record(context.Background(), strconv.FormatInt(n.Add(1), 36), time.Time{}, 80*time.Millisecond)
				if err != nil && !errors.Is(err, nonce.ErrUnavailable) {
					b.Fatal(err)
				}
			}
		})
	})
}
