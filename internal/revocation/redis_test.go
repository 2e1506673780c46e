package revocation_test

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/internal/revocation/revocationtest"
	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) { os.Exit(env.Main(m)) }

// redisConfig namespaces keys and channel by test, as Redis is shared.
func redisConfig(t *testing.T, c redis.UniversalClient, now func() time.Time) revocation.RedisConfig {
	return revocation.RedisConfig{Client: c, Prefix: "test:" + t.Name(), Channel: "test:" + t.Name(), Now: now}
}

func newRedisStore(t *testing.T, cfg revocation.RedisConfig) *revocation.RedisStore {
	t.Helper()
	s, err := revocation.NewRedis(cfg)
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	return s
}

func TestRedisConformance(t *testing.T) {
	r := env.Redis(t)
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocation.Store {
		return newRedisStore(t, redisConfig(t, r.Client(t), now))
	})
}

// The cache, fed by pub/sub, passes the same suite: writes go to Redis and
// every Check is answered from the cache once the message has arrived.
func TestCacheConformance(t *testing.T) {
	r := env.Redis(t)
	revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocation.Store {
		writer := newRedisStore(t, redisConfig(t, r.Client(t), now))
		follower := newRedisStore(t, redisConfig(t, r.Client(t), now))
		c := startCache(t, follower, revocation.CacheConfig{})
		return &cachedStore{RedisStore: writer, cache: c}
	})
}

// cachedStore writes through a store and checks through a cache, waiting
// until the cache has caught up with the store's version.
type cachedStore struct {
	*revocation.RedisStore
	cache *revocation.Cache
}

func (s *cachedStore) Check(ctx context.Context, sub revocation.Subjects) (*revocation.Revocation, error) {
	snap, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(2 * time.Second)
	for v, _ := s.cache.Version(); counter(v) < counter(snap.Version); v, _ = s.cache.Version() {
		if time.Now().After(deadline) {
			return nil, errors.New("cache did not catch up within 2s")
		}
		time.Sleep(time.Millisecond)
	}
	return s.cache.Check(ctx, sub)
}

// counter returns the counter part of a version "epoch-counter".
func counter(version string) int {
	n, _ := strconv.Atoi(version[strings.LastIndex(version, "-")+1:])
	return n
}

func startCache(t *testing.T, s *revocation.RedisStore, cfg revocation.CacheConfig) *revocation.Cache {
	t.Helper()
	c := revocation.NewCache(s, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	start := time.Now()
	if err := c.WaitSynced(wctx); err != nil {
		t.Fatalf("cache never synced: %v", err)
	}
	t.Logf("cache synced in %v", time.Since(start))
	return c
}

// A revocation made through one client reaches a cache on a second
// client (standing for another enforcer process) at once.
func TestRevocationPropagation(t *testing.T) {
	r := env.Redis(t)
	issuer := newRedisStore(t, redisConfig(t, r.Client(t), nil))
	received := make(chan time.Time, 1)
	enforcer := startCache(t, newRedisStore(t, redisConfig(t, r.Client(t), nil)), revocation.CacheConfig{
		OnRevoke: func(revocation.Revocation) { received <- time.Now() },
	})
	ctx := context.Background()
	const n = 100
	lat := make([]time.Duration, 0, n)
	for i := range n {
		jti := "jti-" + time.Now().Format(time.RFC3339Nano)
		if r, err := enforcer.Check(ctx, revocation.Subjects{JTI: jti}); err != nil || r != nil {
			t.Fatalf("before revoking: %+v, %v", r, err)
		}
		start := time.Now()
		if _, err := issuer.Revoke(ctx, revocation.Revocation{Kind: revocation.KindJTI, Subject: jti, ExpiresAt: start.Add(time.Minute)}); err != nil {
			t.Fatalf("Revoke %d: %v", i, err)
		}
		select {
		case at := <-received:
			lat = append(lat, at.Sub(start))
		case <-time.After(5 * time.Second):
			t.Fatalf("revocation %d not received within 5s", i)
		}
		if r, err := enforcer.Check(ctx, revocation.Subjects{JTI: jti}); err != nil || r == nil {
			t.Fatalf("after the message the cache answers %+v, %v", r, err)
		}
	}
	slices.Sort(lat)
	p50, p99 := lat[n/2], lat[n*99/100]
	t.Logf("revocation propagation over %d revocations (revoke call + pub/sub): p50 %v, p99 %v, max %v", n, p50, p99, lat[n-1])
}

// Redis down: the store and the cache fail closed with ErrUnavailable;
// when Redis is back the cache re-syncs by itself.
func TestRedisOutage(t *testing.T) {
	r := env.Redis(t)
	ctx := context.Background()
	opts := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	store := newRedisStore(t, redisConfig(t, opts(), nil))
	cache := startCache(t, newRedisStore(t, redisConfig(t, opts(), nil)), revocation.CacheConfig{PingInterval: 100 * time.Millisecond})
	sub := revocation.Subjects{AgentID: "a1"}

	r.Stop(t)
	t.Cleanup(func() { r.Start(t) })
	if _, err := store.Check(ctx, sub); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("store Check with Redis down = %v, want ErrUnavailable", err)
	}
	if _, err := store.Revoke(ctx, revocation.Revocation{Kind: revocation.KindAgent, Subject: "a1"}); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("Revoke with Redis down = %v, want ErrUnavailable", err)
	}
	if _, err := store.List(ctx); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("List with Redis down = %v, want ErrUnavailable", err)
	}
	waitFor(t, "cache to fail closed", func() bool {
		_, err := cache.Check(ctx, sub)
		return errors.Is(err, revocation.ErrUnavailable)
	})

	r.Start(t)
	// A revocation made while the cache is reconnecting is picked up by
	// the re-sync or by pub/sub, whichever comes first.
	waitFor(t, "store to work again", func() bool {
		_, err := store.Revoke(ctx, revocation.Revocation{Kind: revocation.KindAgent, Subject: "a1"})
		return err == nil
	})
	waitFor(t, "cache to re-sync", func() bool {
		got, err := cache.Check(ctx, sub)
		return err == nil && got != nil
	})
}

func TestCacheMaxStale(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	cache := revocation.NewCache(newRedisStore(t, redisConfig(t, c, nil)), revocation.CacheConfig{MaxStale: time.Hour})
	// Never synced: even a generous MaxStale does not allow answers.
	if _, err := cache.Check(context.Background(), revocation.Subjects{AgentID: "a"}); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("Check before any sync = %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	go func() { _ = cache.Run(ctx) }()
	if err := cache.WaitSynced(ctx); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("WaitSynced against no Redis = %v, want ErrUnavailable", err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
