package nonce

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix namespaces the nonce keys.
const DefaultRedisPrefix = "aip:nonce:"

// RedisConfig configures a Redis store.
type RedisConfig struct {
	// Client is any go-redis client (single node, Sentinel or Cluster).
	// Required; the store does not close it.
	Client redis.UniversalClient
	// Prefix is prepended to each jti; empty means DefaultRedisPrefix.
	Prefix string
}

// Redis is a Store shared by every enforcer using the same Redis: each jti
// is a key set with SET NX PX, so exactly one of several concurrent
// Records of a jti succeeds, and Redis expires it.
type Redis struct {
	c      redis.UniversalClient
	prefix string
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis-backed store.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("nonce redis store: client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultRedisPrefix
	}
	return &Redis{c: cfg.Client, prefix: cfg.Prefix}, nil
}

// Record implements Store with one SET NX PX.
func (r *Redis) Record(ctx context.Context, jti string, ttl time.Duration) error {
	if err := checkArgs(jti, ttl); err != nil {
		return err
	}
	ok, err := r.c.SetNX(ctx, r.prefix+jti, 1, ttl).Result()
	return r.result(ok, err)
}

// Queue adds the write of jti to a pipeline the caller executes, and
// returns a function that, once p has been executed, gives the outcome
// Record would have given. With it the sidecar sends the nonce write
// together with its other per-call reads (e.g. the revocation MGET) in one
// round trip:
//
//	p := client.Pipeline()
//	recorded := nonces.Queue(ctx, p, jti, ttl)
//	revoked := p.MGet(ctx, revocationKeys...)
//	_, _ = p.Exec(ctx) // errors are reported per command
//	if err := recorded(); err != nil { ... } // ErrReplayed or ErrUnavailable
func (r *Redis) Queue(ctx context.Context, p redis.Pipeliner, jti string, ttl time.Duration) func() error {
	if err := checkArgs(jti, ttl); err != nil {
		return func() error { return err }
	}
	cmd := p.SetNX(ctx, r.prefix+jti, 1, ttl)
	return func() error { return r.result(cmd.Result()) }
}

// RecordAndCheck records jti as Record does and, in the same round trip,
// reads keys with MGET (nil keys: no read). It returns the values (nil for
// a missing key) even when the jti is replayed, so a caller can report a
// revocation first; on a backend failure it returns ErrUnavailable and no
// values.
func (r *Redis) RecordAndCheck(ctx context.Context, jti string, ttl time.Duration, keys []string) ([]any, error) {
	if err := checkArgs(jti, ttl); err != nil {
		return nil, err
	}
	p := r.c.Pipeline()
	recorded := r.Queue(ctx, p, jti, ttl)
	var mget *redis.SliceCmd
	if len(keys) > 0 {
		mget = p.MGet(ctx, keys...)
	}
	_, _ = p.Exec(ctx) // each command carries its own error
	err := recorded()
	if errors.Is(err, ErrUnavailable) {
		return nil, err
	}
	if mget == nil {
		return nil, err
	}
	vals, mgetErr := mget.Result()
	if mgetErr != nil {
		return nil, fmt.Errorf("read keys with nonce: %w: %w", ErrUnavailable, mgetErr)
	}
	return vals, err
}

func (r *Redis) result(ok bool, err error) error {
	if err != nil {
		return fmt.Errorf("record nonce: %w: %w", ErrUnavailable, err)
	}
	if !ok {
		return ErrReplayed
	}
	return nil
}
