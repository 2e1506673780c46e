package sidecar

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/enforcer/ratelimit"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/internal/revocation"
)

// stores are the nonce store, revocation checker and rate limiter: shared
// through Redis, or embedded (memory, and revocation lists polled from
// the issuers).
type stores struct {
	nonces      nonce.Store
	revocations RevocationChecker
	limiter     policy.RateLimiter
	redis       redis.UniversalClient // nil when embedded
	run         []func(ctx context.Context)
	ready       func(ctx context.Context) error
}

func openStores(cfg *Config, keys map[string]aat.KeySource, client *http.Client, now func() time.Time, log *slog.Logger) (*stores, error) {
	if cfg.Redis == nil {
		return embeddedStores(cfg, keys, client, now, log), nil
	}
	rc := redis.NewUniversalClient(cfg.Redis)
	ns, err := nonce.NewRedis(nonce.RedisConfig{Client: rc, Prefix: cfg.RedisPrefix + ":nonce:"})
	if err != nil {
		_ = rc.Close()
		return nil, err
	}
	lim, err := ratelimit.New(ratelimit.Config{Client: rc, Prefix: cfg.RedisPrefix + ":ratelimit:"})
	if err != nil {
		_ = rc.Close()
		return nil, err
	}
	// The issuer's Redis store writes and publishes here (its prefix and
	// channel are store.prefix + ":revocations").
	rs, err := revocation.NewRedis(revocation.RedisConfig{Client: rc, Prefix: cfg.RedisPrefix + ":revocations",
		Channel: cfg.RedisPrefix + ":revocations", Now: now})
	if err != nil {
		_ = rc.Close()
		return nil, err
	}
	cache := revocation.NewCache(rs, revocation.CacheConfig{PingInterval: 500 * time.Millisecond,
		MaxStale: cfg.Revocation.MaxStale, Logger: log})
	return &stores{nonces: ns, revocations: cacheChecker{cache}, limiter: lim, redis: rc,
		run: []func(context.Context){func(ctx context.Context) { _ = cache.Run(ctx) }},
		ready: func(ctx context.Context) error {
			if _, synced := cache.Version(); !synced {
				return fmt.Errorf("revocations: %w: not in sync with redis", revocation.ErrUnavailable)
			}
			return rc.Ping(ctx).Err()
		}}, nil
}

func embeddedStores(cfg *Config, keys map[string]aat.KeySource, client *http.Client, now func() time.Time, log *slog.Logger) *stores {
	ps := make(pollers, 0, len(cfg.Issuers))
	st := &stores{nonces: nonce.NewMemory(nonce.MemoryConfig{Now: now}), limiter: policy.NewMemoryLimiter(now)}
	for _, is := range cfg.Issuers {
		p := &poller{issuer: is.Issuer, url: is.Issuer + "/v1/revocations", keys: keys[is.Issuer], client: client,
			maxStale: cfg.Revocation.MaxStale, now: now, log: log}
		ps = append(ps, p)
		st.run = append(st.run, func(ctx context.Context) { p.run(ctx, cfg.Revocation.PollInterval) })
	}
	st.revocations = ps
	st.ready = func(context.Context) error {
		for _, p := range ps {
			if _, err := p.check(revocation.Subjects{}); err != nil {
				return err
			}
		}
		return nil
	}
	return st
}
