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

func (r *Redis) result(ok bool, err error) error {
	if err != nil {
		return fmt.Errorf("record nonce: %w: %w", ErrUnavailable, err)
	}
	if !ok {
		return ErrReplayed
	}
	return nil
}
