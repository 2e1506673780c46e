package revocation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// CacheConfig configures a Cache.
type CacheConfig struct {
	// PingInterval is how often an idle subscription is pinged; a
	// connection silent for three intervals is dropped and re-established.
	// Zero means 1s.
	PingInterval time.Duration
	// MaxStale is how long Check keeps answering from the cache after the
	// subscription is lost. Zero (the default) fails closed at once with
	// ErrUnavailable; a positive value is an explicit operator choice.
	MaxStale time.Duration
	// OnRevoke, when set, is called for every revocation received.
	OnRevoke func(Revocation)
	// Logger receives connection events. Nil means slog.Default().
	Logger *slog.Logger
}

// Cache answers Check from memory, kept current by the Redis store's
// pub/sub channel. Run subscribes first, then loads the full list, and
// loads it again after every reconnect, so no revocation published while
// it was away is missed. It is safe for concurrent use.
type Cache struct {
	store *RedisStore
	cfg   CacheConfig
	log   *slog.Logger

	mu         sync.RWMutex
	set        set
	version    string
	synced     bool
	staleSince time.Time

	ready     chan struct{} // closed at the first sync
	firstSync sync.Once
}

var _ Checker = (*Cache)(nil)

// NewCache returns a cache following store; call Run to start it.
func NewCache(store *RedisStore, cfg CacheConfig) *Cache {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Cache{store: store, cfg: cfg, log: log, set: set{}, ready: make(chan struct{})}
}

// Check implements Checker. It fails with ErrUnavailable until the first
// sync, and after the subscription is lost (see CacheConfig.MaxStale).
func (c *Cache) Check(_ context.Context, s Subjects) (*Revocation, error) {
	now := c.store.now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.synced && (c.staleSince.IsZero() || now.Sub(c.staleSince) > c.cfg.MaxStale) {
		return nil, fmt.Errorf("revocation cache: %w: not subscribed to redis", ErrUnavailable)
	}
	return c.set.check(s, now), nil
}

// Version returns the version of the last list loaded or revocation
// received, and whether the cache is in sync now.
func (c *Cache) Version() (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.version, c.synced
}

// Run follows the channel, reconnecting with backoff, until ctx ends; it
// then returns ctx.Err().
func (c *Cache) Run(ctx context.Context) error {
	const minBackoff, maxBackoff = 50 * time.Millisecond, 2 * time.Second
	backoff := minBackoff
	for {
		err := c.follow(ctx)
		if c.markStale() { // it had been in sync: retry quickly
			backoff = minBackoff
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.log.Warn("revocation cache lost its subscription; reconnecting", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// follow subscribes, syncs and applies messages until the connection is
// lost.
func (c *Cache) follow(ctx context.Context) error {
	ps := c.store.c.Subscribe(ctx, c.store.channel)
	defer func() { _ = ps.Close() }()
	// Closing unblocks a pending receive at once when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	heard := time.Now() // liveness uses the real clock, not cfg's

	for {
		msg, err := ps.ReceiveTimeout(ctx, c.cfg.PingInterval)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || ctx.Err() != nil {
				return fmt.Errorf("receive: %w", err)
			}
			if time.Since(heard) > 3*c.cfg.PingInterval {
				return errors.New("receive: no answer to ping")
			}
			c.prune()
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		}
		heard = time.Now()
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if err := c.resync(ctx); err != nil {
					return err
				}
			}
		case *redis.Message:
			c.apply(m.Payload)
		}
	}
}

// resync replaces the cache with the store's list.
func (c *Cache) resync(ctx context.Context) error {
	snap, err := c.store.List(ctx)
	if err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	fresh := set{}
	for _, r := range snap.Revocations {
		fresh[keyOf(&r)] = r
	}
	// Messages published after the subscription and before this read are
	// both in the list and queued on the subscription: applying them again
	// is harmless. Nothing is merged from before: Redis is the truth.
	c.mu.Lock()
	c.set, c.version, c.synced, c.staleSince = fresh, snap.Version, true, time.Time{}
	c.mu.Unlock()
	c.firstSync.Do(func() { close(c.ready) })
	c.log.Info("revocation cache in sync", "version", snap.Version, "revocations", len(snap.Revocations))
	return nil
}

// apply records one published revocation.
func (c *Cache) apply(payload string) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		c.log.Error("revocation cache: undecodable message ignored", "error", err)
		return
	}
	r := m.Revocation
	if err := r.validate(r.RevokedAt); err != nil {
		c.log.Error("revocation cache: invalid revocation ignored", "error", err)
		return
	}
	c.mu.Lock()
	c.set[keyOf(&r)] = r
	c.version = m.Version
	c.mu.Unlock()
	if c.cfg.OnRevoke != nil {
		c.cfg.OnRevoke(r)
	}
}

// prune drops expired revocations (done while idle).
func (c *Cache) prune() {
	c.mu.Lock()
	c.set.prune(c.store.now())
	c.mu.Unlock()
}

// WaitSynced blocks until the cache has loaded the list once, or ctx ends.
func (c *Cache) WaitSynced(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("revocation cache: %w: %w", ErrUnavailable, ctx.Err())
	}
}

// markStale records that the subscription is lost and reports whether the
// cache had been in sync.
func (c *Cache) markStale() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.synced
	if was {
		c.synced, c.staleSince = false, c.store.now()
	}
	return was
}
