package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisPrefix is the key prefix used when RedisConfig.Prefix is empty.
const DefaultRedisPrefix = "aip:registry"

// RedisConfig configures a RedisStore.
type RedisConfig struct {
	// Client is any go-redis client: single node, Sentinel (failover) or
	// Cluster. Required. The store does not close it.
	Client redis.UniversalClient
	// Prefix namespaces the keys. Nil means DefaultRedisPrefix. It is
	// wrapped in a hash tag ({prefix}) so all registry keys share one
	// Cluster slot and scripts stay atomic.
	Prefix string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// RedisStore is the Store shared by issuer replicas. Each agent is a hash
// {record, status, updated_at}; a set holds the ids and two hashes map
// SPIFFE IDs and key thumbprints to ids. Writes run as Lua scripts, so two
// replicas can never create the same id, SPIFFE ID or key.
type RedisStore struct {
	c   redis.UniversalClient
	p   string // "{prefix}:"
	now func() time.Time
}

var _ Store = (*RedisStore)(nil)

// NewRedis returns a Redis-backed store.
func NewRedis(cfg RedisConfig) (*RedisStore, error) {
	if cfg.Client == nil {
		return nil, errors.New("registry redis store: client is required")
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

func (s *RedisStore) agentKey(id string) string { return s.p + "agent:" + id }
func (s *RedisStore) idsKey() string            { return s.p + "ids" }
func (s *RedisStore) sidKey() string            { return s.p + "by_spiffe_id" }
func (s *RedisStore) jktKey() string            { return s.p + "by_jkt" }

// createScript fails with the name of the first taken unique field.
var createScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 'agent_id' end
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[5]) == 1 then return 'spiffe_id' end
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[4], ARGV[6]) == 1 then return 'public_key' end
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'status', ARGV[3], 'updated_at', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], ARGV[5], ARGV[1]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[4], ARGV[6], ARGV[1]) end
return 'ok'`)

// statusScript moves an agent to ARGV[1] unless it is revoked.
var statusScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 'not_found' end
if cur == ARGV[1] then return 'ok' end
if cur == 'revoked' then return 'revoked' end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2])
return 'ok'`)

// Create implements Store.
func (s *RedisStore) Create(ctx context.Context, a Agent) (*Agent, error) {
	c, err := Prepare(a, s.now())
	if err != nil {
		return nil, err
	}
	record, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode agent %q: %w", c.ID, err)
	}
	res, err := createScript.Run(ctx, s.c,
		[]string{s.agentKey(c.ID), s.idsKey(), s.sidKey(), s.jktKey()},
		c.ID, record, string(c.Status), c.UpdatedAt.Format(time.RFC3339Nano), c.SPIFFEID, c.KeyThumbprint,
	).Text()
	if err != nil {
		return nil, redisErr("create agent "+c.ID, err)
	}
	if res != "ok" {
		return nil, fmt.Errorf("create agent: %s of %q: %w", res, c.ID, ErrExists)
	}
	return c, nil
}

// Get implements Store.
func (s *RedisStore) Get(ctx context.Context, id string) (*Agent, error) {
	h, err := s.c.HGetAll(ctx, s.agentKey(id)).Result()
	if err != nil {
		return nil, redisErr("get agent "+id, err)
	}
	return decodeAgent(id, h)
}

// decodeAgent builds an agent from its hash; an empty hash is ErrNotFound.
func decodeAgent(id string, h map[string]string) (*Agent, error) {
	if len(h) == 0 {
		return nil, notFound("id", id)
	}
	var a Agent
	if err := json.Unmarshal([]byte(h["record"]), &a); err != nil {
		return nil, fmt.Errorf("decode agent %q: %w", id, err)
	}
	a.Status = Status(h["status"])
	t, err := time.Parse(time.RFC3339Nano, h["updated_at"])
	if err != nil {
		return nil, fmt.Errorf("decode agent %q: updated_at: %w", id, err)
	}
	a.UpdatedAt = t
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("stored agent %q: %w", id, err)
	}
	return &a, nil
}

// List implements Store. It reads every agent in one pipeline.
func (s *RedisStore) List(ctx context.Context) ([]Agent, error) {
	ids, err := s.c.SMembers(ctx, s.idsKey()).Result()
	if err != nil {
		return nil, redisErr("list agents", err)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return []Agent{}, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.agentKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, redisErr("list agents", err)
	}
	out := make([]Agent, 0, len(ids))
	for i, id := range ids {
		a, err := decodeAgent(id, cmds[i].Val())
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

// UpdateStatus implements Store.
func (s *RedisStore) UpdateStatus(ctx context.Context, id string, st Status) (*Agent, error) {
	if err := checkTransition(id, "", st); err != nil {
		return nil, err
	}
	res, err := statusScript.Run(ctx, s.c, []string{s.agentKey(id)},
		string(st), s.now().UTC().Format(time.RFC3339Nano)).Text()
	if err != nil {
		return nil, redisErr("update agent "+id, err)
	}
	switch res {
	case "not_found":
		return nil, notFound("id", id)
	case "revoked":
		return nil, checkTransition(id, StatusRevoked, st)
	}
	return s.Get(ctx, id)
}

// GetBySPIFFEID implements Store.
func (s *RedisStore) GetBySPIFFEID(ctx context.Context, sid string) (*Agent, error) {
	return s.getByIndex(ctx, s.sidKey(), "spiffe id", sid)
}

// GetByThumbprint implements Store.
func (s *RedisStore) GetByThumbprint(ctx context.Context, jkt string) (*Agent, error) {
	return s.getByIndex(ctx, s.jktKey(), "key thumbprint", jkt)
}

func (s *RedisStore) getByIndex(ctx context.Context, key, kind, v string) (*Agent, error) {
	if v == "" {
		return nil, notFound(kind, v)
	}
	id, err := s.c.HGet(ctx, key, v).Result()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(kind, v)
	}
	if err != nil {
		return nil, redisErr("find agent by "+kind, err)
	}
	return s.Get(ctx, id)
}

// redisErr wraps any Redis failure (network, timeout, closed client, or an
// error reply such as LOADING or READONLY) as ErrUnavailable, so callers
// fail closed and answer 503.
func redisErr(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}
