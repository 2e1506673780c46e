package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/enforcer/policy"
)

// DefaultPrefix namespaces the limiter's keys.
const DefaultPrefix = "aip:ratelimit:"

// ErrUnavailable means the limiter could not decide (Redis unreachable or
// answering nonsense): the call is denied.
var ErrUnavailable = errors.New("rate limiter unavailable")

// Config configures a Redis limiter.
type Config struct {
	// Client is any go-redis client (single node, Sentinel or Cluster).
	// Required; the limiter does not close it.
	Client redis.UniversalClient
	// Prefix is prepended to each key; empty means DefaultPrefix.
	Prefix string
	// Now is the clock. Nil means the Redis server's clock (TIME), which
	// every enforcer shares whatever the skew between their hosts; set it
	// in tests.
	Now func() time.Time
}

// Redis is a policy.RateLimiter shared by all enforcers using one Redis.
// It is safe for concurrent use.
type Redis struct {
	c      redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ policy.RateLimiter = (*Redis)(nil)

// New returns a Redis limiter.
func New(cfg Config) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("redis rate limiter: client is required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	return &Redis{c: cfg.Client, prefix: cfg.Prefix, now: cfg.Now}, nil
}

// gcraScript: KEYS[1] the key; ARGV[1] emission interval µs, ARGV[2]
// period µs, ARGV[3] now µs or "" for the server's clock. The key holds
// the theoretical arrival time (µs) and expires when it has passed.
// Returns 1 to allow, 0 to deny.
var gcraScript = redis.NewScript(`
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local nxt = tat + interval
if nxt - now > period then return 0 end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.ceil((nxt - now) / 1000))
return 1`)

// Allow implements policy.RateLimiter: it admits one more call under key
// if it fits limit, in one round trip.
func (r *Redis) Allow(ctx context.Context, key string, limit policy.Limit) (bool, error) {
	if limit.N < 1 || limit.Per <= 0 || limit.Per/time.Duration(limit.N) < time.Microsecond {
		return false, fmt.Errorf("rate limit %v: want N ≥ 1 and Per/N ≥ 1µs", limit)
	}
	if key == "" {
		return false, errors.New("rate limit: empty key")
	}
	interval := (limit.Per / time.Duration(limit.N)).Microseconds()
	now := ""
	if r.now != nil {
		now = strconv.FormatInt(r.now().UnixMicro(), 10)
	}
	n, err := gcraScript.Run(ctx, r.c, []string{r.prefix + key}, interval, limit.Per.Microseconds(), now).Int()
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w: %w", limit, ErrUnavailable, err)
	}
	return n == 1, nil
}
