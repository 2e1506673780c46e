package revocation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults for RedisConfig.
const (
	DefaultRedisPrefix = "aip:revocations"
	DefaultChannel     = "aip:revocations"
)

// RedisConfig configures a RedisStore (and the Caches that follow it).
type RedisConfig struct {
	// Client is any go-redis client (single node, Sentinel or Cluster).
	// Required; the store does not close it.
	Client redis.UniversalClient
	// Prefix namespaces the keys. Empty means DefaultRedisPrefix. It is
	// wrapped in a hash tag so all keys share one Cluster slot.
	Prefix string
	// Channel is where revocations are published. Empty means
	// DefaultChannel.
	Channel string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand seeds the version epoch. Nil means crypto/rand.
	Rand io.Reader
}

// RedisStore is the Store shared by issuers and enforcers. Each revocation
// is a key holding its JSON, with a TTL when it expires; a sorted set
// indexes them by expiry for List; a counter and a random epoch make the
// version. Revoke runs as one script that also publishes
// {"version","revocation"} on the channel.
type RedisStore struct {
	c       redis.UniversalClient
	p       string // "{prefix}:"
	channel string
	now     func() time.Time
	rand    io.Reader
}

var _ Store = (*RedisStore)(nil)

// NewRedis returns a Redis-backed store.
func NewRedis(cfg RedisConfig) (*RedisStore, error) {
	if cfg.Client == nil {
		return nil, errors.New("revocation redis store: client is required")
	}
	s := &RedisStore{c: cfg.Client, p: "{" + cmpOr(cfg.Prefix, DefaultRedisPrefix) + "}:",
		channel: cmpOr(cfg.Channel, DefaultChannel), now: cfg.Now, rand: cfg.Rand}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *RedisStore) recordKey(k key) string { return s.p + "r:" + string(k.kind) + ":" + k.subject }
func (s *RedisStore) indexKey() string       { return s.p + "index" }
func (s *RedisStore) counterKey() string     { return s.p + "counter" }
func (s *RedisStore) epochKey() string       { return s.p + "epoch" }

// message is what Revoke publishes.
type message struct {
	Version    string     `json:"version"`
	Revocation Revocation `json:"revocation"`
}

// revokeScript: KEYS record, index, counter, epoch; ARGV json, member,
// ttl ms ("" = never), expiry score, now ms, new epoch, channel.
var revokeScript = redis.NewScript(`
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])
redis.call('SET', KEYS[4], ARGV[6], 'NX')
local version = redis.call('GET', KEYS[4]) .. '-' .. redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[7], '{"version":"' .. version .. '","revocation":' .. ARGV[1] .. '}')
return version`)

// Revoke implements Store.
func (s *RedisStore) Revoke(ctx context.Context, r Revocation) (Revocation, error) {
	now := s.now()
	r, err := prepare(r, now)
	if err != nil {
		return Revocation{}, err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return Revocation{}, fmt.Errorf("encode revocation: %w", err)
	}
	ttl, score := "", "inf"
	if !r.ExpiresAt.IsZero() {
		// A relative TTL, so a skewed clock cannot delete the key at once.
		ttl = strconv.FormatInt(max(r.ExpiresAt.Sub(now).Milliseconds(), 1), 10)
		score = strconv.FormatInt(r.ExpiresAt.UnixMilli(), 10)
	}
	epoch, err := randomEpoch(s.rand)
	if err != nil {
		return Revocation{}, err
	}
	k := keyOf(&r)
	err = revokeScript.Run(ctx, s.c,
		[]string{s.recordKey(k), s.indexKey(), s.counterKey(), s.epochKey()},
		data, string(k.kind)+":"+k.subject, ttl, score, now.UnixMilli(), epoch, s.channel,
	).Err()
	if err != nil {
		return Revocation{}, unavailable("revoke "+string(r.Kind), err)
	}
	return r, nil
}

// Check implements Checker with one MGET.
func (s *RedisStore) Check(ctx context.Context, sub Subjects) (*Revocation, error) {
	keys := sub.keys()
	if len(keys) == 0 {
		return nil, nil
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = s.recordKey(k)
	}
	vals, err := s.c.MGet(ctx, names...).Result()
	if err != nil {
		return nil, unavailable("check revocations", err)
	}
	now := s.now()
	for _, v := range vals {
		r, err := decodeRecord(v)
		if err != nil {
			return nil, err
		}
		if r != nil && r.activeAt(now) {
			return r, nil
		}
	}
	return nil, nil
}

// decodeRecord decodes an MGET value; nil means absent.
func decodeRecord(v any) (*Revocation, error) {
	str, ok := v.(string)
	if !ok {
		return nil, nil
	}
	var r Revocation
	if err := json.Unmarshal([]byte(str), &r); err != nil {
		// A corrupt record cannot be trusted either way: fail closed.
		return nil, fmt.Errorf("%w: decode stored revocation: %w", ErrUnavailable, err)
	}
	return &r, nil
}

// List implements Store. The version is read in the same transaction as
// the index, before the records, so the list is never older than it.
func (s *RedisStore) List(ctx context.Context) (Snapshot, error) {
	now := s.now()
	var epoch, counter *redis.StringCmd
	var members *redis.StringSliceCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		epoch = p.Get(ctx, s.epochKey())
		counter = p.Get(ctx, s.counterKey())
		members = p.ZRangeByScore(ctx, s.indexKey(), &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"})
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Snapshot{}, unavailable("list revocations", err)
	}
	snap := Snapshot{Version: "0", Revocations: []Revocation{}}
	if epoch.Val() != "" {
		snap.Version = epoch.Val() + "-" + counter.Val()
	}
	if len(members.Val()) == 0 {
		return snap, nil
	}
	names := make([]string, 0, len(members.Val()))
	for _, m := range members.Val() {
		kind, subject, _ := strings.Cut(m, ":")
		names = append(names, s.recordKey(key{Kind(kind), subject}))
	}
	vals, err := s.c.MGet(ctx, names...).Result()
	if err != nil {
		return Snapshot{}, unavailable("list revocations", err)
	}
	for _, v := range vals {
		r, err := decodeRecord(v)
		if err != nil {
			return Snapshot{}, err
		}
		if r != nil && r.activeAt(now) {
			snap.Revocations = append(snap.Revocations, *r)
		}
	}
	sortRevocations(snap.Revocations)
	return snap, nil
}

// unavailable wraps any Redis failure as ErrUnavailable (fail closed).
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}
