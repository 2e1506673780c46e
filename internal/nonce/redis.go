package nonce

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	// Now is the clock that dates a new horizon; nil means time.Now.
	Now func() time.Time
}

// Redis is a Store shared by every process using the same Redis: each jti
// is a key set with SET NX PX, so exactly one of several concurrent
// Records of a jti succeeds, and Redis expires it.
//
// Its horizon is a key (prefix + NUL + "horizon", no expiry) holding the
// Unix milliseconds when the first Record after Redis started empty set
// it: a restart without persistence, a FLUSHALL or an eviction removes it
// with the nonces, and the next Record sets it again, so proofs issued
// before the loss are refused instead of replayed. Each Record sends SET
// NX of the horizon and a GET of it in the same pipeline as the nonce:
// still one round trip (in Cluster, the horizon's node is a second one in
// parallel; a shard restarted alone is not detected). Redis must not
// evict nonces (maxmemory-policy noeviction), and with persistence the
// nonces written after the last save are lost but the horizon is not:
// appendonly yes with appendfsync everysec bounds that to a second.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	horizon string // the horizon's key
	now     func() time.Time
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Redis{c: cfg.Client, prefix: cfg.Prefix, horizon: cfg.Prefix + "\x00horizon", now: cfg.Now}, nil
}

// Record implements Store with one pipeline: SET NX PX of the jti, SET NX
// of the horizon, GET of the horizon.
func (r *Redis) Record(ctx context.Context, jti string, issued time.Time, ttl time.Duration) error {
	if err := checkArgs(jti, ttl); err != nil {
		return err
	}
	var set *redis.BoolCmd
	var get *redis.StringCmd
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.SetNX(ctx, r.prefix+jti, 1, ttl)
		p.SetNX(ctx, r.horizon, r.now().UnixMilli(), 0)
		get = p.Get(ctx, r.horizon)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record nonce: %w: %w", ErrUnavailable, err)
	}
	ms, err := strconv.ParseInt(get.Val(), 10, 64)
	if err != nil {
		return fmt.Errorf("record nonce: %w: the horizon key holds %q, not Unix milliseconds", ErrUnavailable, get.Val())
	}
	if beforeHorizon(issued, time.UnixMilli(ms), ttl) {
		return ErrBeforeHorizon
	}
	if !set.Val() {
		return ErrReplayed
	}
	return nil
}
