package nonce_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) { os.Exit(env.Main(m)) }

func newRedis(t testing.TB, c redis.UniversalClient) *nonce.Redis {
	t.Helper()
	s, err := nonce.NewRedis(nonce.RedisConfig{Client: c, Prefix: "test:" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRedisConformance(t *testing.T) {
	r := env.Redis(t)
	runConformance(t, func(t *testing.T) (nonce.Store, func(time.Duration)) {
		return newRedis(t, r.Client(t)), time.Sleep
	})
}

// Two enforcers sharing a Redis catch each other's replays.
func TestRedisShared(t *testing.T) {
	r := env.Redis(t)
	a, b := newRedis(t, r.Client(t)), newRedis(t, r.Client(t))
	record(t, a, "jti-1", time.Minute, nil)
	record(t, b, "jti-1", time.Minute, nonce.ErrReplayed)

	c := r.Client(t)
	ttl, err := c.PTTL(context.Background(), "test:"+t.Name()+":jti-1").Result()
	if err != nil || ttl <= 50*time.Second || ttl > time.Minute {
		t.Fatalf("PTTL of the key = %s, %v; want about 1m", ttl, err)
	}
	if _, err := nonce.NewRedis(nonce.RedisConfig{}); err == nil {
		t.Fatal("store without a client")
	}
}

// With Redis down every call fails with ErrUnavailable, never a silent
// accept; once it is back, records work again.
func TestRedisOutage(t *testing.T) {
	r := env.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s := newRedis(t, c)
	record(t, s, "before", time.Minute, nil)

	r.Stop(t)
	t.Cleanup(func() { r.Start(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range 3 {
		if err := s.Record(ctx, "down-"+strconv.Itoa(i), time.Time{}, time.Minute); !errors.Is(err, nonce.ErrUnavailable) {
			t.Fatalf("Record with redis down = %v, want ErrUnavailable", err)
		}
	}

	r.Start(t)
	record(t, s, "after", time.Minute, nil)
	record(t, s, "after", time.Minute, nonce.ErrReplayed)
}

// Redis restarted empty (no persistence here) loses the nonces: a proof
// issued before is refused (ErrBeforeHorizon) rather than accepted as new,
// by every store sharing that Redis; proofs issued after pass.
func TestRedisRestartedEmpty(t *testing.T) {
	r := env.Redis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	// The horizon is dated by the clock of the store that sets it: an hour
	// ago for the first one, so that a proof from a second ago passes.
	var clock atomic.Int64
	clock.Store(time.Now().Add(-time.Hour).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	mk := func() *nonce.Redis {
		s, err := nonce.NewRedis(nonce.RedisConfig{Client: c, Prefix: "test:" + t.Name() + ":", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk(), mk()
	issued := time.Now().Add(-time.Second)
	recordAt(t, a, "proof", issued, time.Minute, nil)
	recordAt(t, b, "proof", issued, time.Minute, nonce.ErrReplayed)

	r.Stop(t)
	t.Cleanup(func() { r.Start(t) })
	r.Start(t)
	clock.Store(time.Now().UnixNano())
	recordAt(t, b, "proof", issued, time.Minute, nonce.ErrBeforeHorizon)
	recordAt(t, a, "proof", issued, time.Minute, nonce.ErrBeforeHorizon)
	recordAt(t, a, "fresh", time.Now().Add(time.Second), time.Minute, nil)
	recordAt(t, b, "fresh", time.Now().Add(time.Second), time.Minute, nonce.ErrReplayed)

	// The horizon stays as first set: a later store does not move it.
	clock.Store(time.Now().Add(time.Hour).UnixNano())
	recordAt(t, mk(), "fresh2", time.Now().Add(2*time.Second), time.Minute, nil)
}

func BenchmarkRedisRecord(b *testing.B) {
	r := env.Redis(b)
	s := newRedis(b, r.Client(b))
	ctx := context.Background()
	b.Run("Record", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if err := s.Record(ctx, "r"+strconv.Itoa(i), time.Time{}, 10*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RecordParallel", func(b *testing.B) {
		run := "p" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" // b.RunParallel's function runs once per b.N
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Record(ctx, run+strconv.FormatInt(n.Add(1), 36), time.Time{}, 10*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
