package binding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the key prefix used when RedisConfig.Prefix is empty.
const DefaultRedisPrefix = "aip:bindings"

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Client is any go-redis client (single node, Sentinel or Cluster).
	// Required. The store does not close it.
	Client redis.UniversalClient
	// Prefix namespaces the keys; empty means DefaultRedisPrefix. It is
	// wrapped in a hash tag so every key shares one Cluster slot and the
	// scripts stay atomic.
	Prefix string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// RedisStore is the Store shared by issuer replicas. A binding is a JSON
// string that Redis expires at the binding's expiry; sets index the ids by
// user, by agent and overall. Writes run as Lua scripts: revoking a user
// removes all their bindings in one step.
type RedisStore struct {
	c   redis.UniversalClient
	p   string
	now func() time.Time
}

var _ Store = (*RedisStore)(nil)

// NewRedis returns a Redis-backed store.
func NewRedis(cfg RedisConfig) (*RedisStore, error) {
	if cfg.Client == nil {
		return nil, errors.New("binding redis store: client is required")
	}
	p := cfg.Prefix
	if p == "" {
		p = DefaultRedisPrefix
	}
	s := &RedisStore{c: cfg.Client, p: "{" + p + "}:", now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func (s *RedisStore) key(id string) string     { return s.p + "b:" + id }
func (s *RedisStore) userKey(u string) string  { return s.p + "user:" + u }
func (s *RedisStore) agentKey(a string) string { return s.p + "agent:" + a }
func (s *RedisStore) allKey() string           { return s.p + "all" }

var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return 'ok'`)

// revokeScript deletes one binding and unindexes it; ARGV[1] is the prefix.
var revokeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local b = cjson.decode(v)
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'user:' .. b.user, b.id)
redis.call('SREM', ARGV[1] .. 'agent:' .. b.agent, b.id)
redis.call('SREM', ARGV[1] .. 'all', b.id)
return v`)

// revokeUserScript deletes every binding of the user set KEYS[1].
var revokeUserScript = redis.NewScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. 'b:' .. id
  local v = redis.call('GET', k)
  if v then
    local b = cjson.decode(v)
    redis.call('DEL', k)
    redis.call('SREM', ARGV[1] .. 'agent:' .. b.agent, id)
    table.insert(out, v)
  end
  redis.call('SREM', ARGV[1] .. 'all', id)
end
redis.call('DEL', KEYS[1])
return out`)

// Create implements Store.
func (s *RedisStore) Create(ctx context.Context, b Binding) (*Binding, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	b = clone(b)
	b.CreatedAt = s.now().UTC()
	if !b.Active(b.CreatedAt) {
		return nil, fmt.Errorf("%w: already expired", ErrInvalid)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode binding: %w", err)
	}
	res, err := createScript.Run(ctx, s.c, []string{s.key(b.ID), s.userKey(b.User), s.agentKey(b.Agent), s.allKey()},
		b.ID, data, b.Expiry.UnixMilli()).Text()
	if err != nil {
		return nil, fmt.Errorf("redis create binding: %w", err)
	}
	if res == "exists" {
		return nil, fmt.Errorf("%w: id %q exists", ErrInvalid, b.ID)
	}
	return &b, nil
}

// Get implements Store.
func (s *RedisStore) Get(ctx context.Context, id string) (*Binding, error) {
	v, err := s.c.Get(ctx, s.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis get binding: %w", err)
	}
	b, err := decode(v)
	if err != nil {
		return nil, err
	}
	if !b.Active(s.now()) {
		return nil, ErrNotFound
	}
	return b, nil
}

// List implements Store. Ids whose binding expired are dropped from the
// index read.
func (s *RedisStore) List(ctx context.Context, f Filter) ([]Binding, error) {
	set := s.allKey()
	switch {
	case f.User != "":
		set = s.userKey(f.User)
	case f.Agent != "":
		set = s.agentKey(f.Agent)
	}
	ids, err := s.c.SMembers(ctx, set).Result()
	if err != nil {
		return nil, fmt.Errorf("redis list bindings: %w", err)
	}
	out := []Binding{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.key(id)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis list bindings: %w", err)
	}
	now := s.now()
	var gone []any
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			gone = append(gone, ids[i])
			continue
		}
		b, err := decode([]byte(str))
		if err != nil {
			return nil, err
		}
		if b.Active(now) && f.match(b) {
			out = append(out, *b)
		}
	}
	if len(gone) > 0 {
		// Best effort: a failure leaves ids that the next list drops again.
		_ = s.c.SRem(ctx, set, gone...).Err()
	}
	sortByCreation(out)
	return out, nil
}

// Revoke implements Store.
func (s *RedisStore) Revoke(ctx context.Context, id string) (*Binding, error) {
	v, err := revokeScript.Run(ctx, s.c, []string{s.key(id)}, s.p).Text()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis revoke binding: %w", err)
	}
	b, err := decode([]byte(v))
	if err != nil {
		return nil, err
	}
	if !b.Active(s.now()) {
		return nil, ErrNotFound
	}
	return b, nil
}

// RevokeUser implements Store.
func (s *RedisStore) RevokeUser(ctx context.Context, user string) ([]Binding, error) {
	vals, err := revokeUserScript.Run(ctx, s.c, []string{s.userKey(user)}, s.p).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redis revoke bindings of user: %w", err)
	}
	now := s.now()
	out := []Binding{}
	for _, v := range vals {
		b, err := decode([]byte(v))
		if err != nil {
			return nil, err
		}
		if b.Active(now) {
			out = append(out, *b)
		}
	}
	sortByCreation(out)
	return out, nil
}

func decode(v []byte) (*Binding, error) {
	var b Binding
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, fmt.Errorf("decode binding: %w", err)
	}
	return &b, nil
}
