package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// staleMargin is how close to expiry a token may still be used when its
// renewal fails.
const staleMargin = 5 * time.Second

// tokenCache holds the current token and runs one renewal at a time:
// callers that need a token while a renewal runs wait for it.
type tokenCache struct {
	fetch func(context.Context) (*Token, error)
	now   func() time.Time
	log   *slog.Logger

	mu     sync.Mutex
	tok    *Token
	flight *flight
}

type flight struct {
	done chan struct{}
	tok  *Token
	err  error
}

// get returns a token to use. stale, when set, is a token the server
// refused: a different one is returned, renewing if needed.
func (c *tokenCache) get(ctx context.Context, stale *Token) (*Token, error) {
	c.mu.Lock()
	cur := c.tok
	now := c.now()
	if cur != nil && cur != stale && (stale != nil || now.Before(cur.refreshAt)) {
		c.mu.Unlock()
		return cur, nil
	}
	f := c.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flight = f
		// The renewal outlives the request that started it: others wait
		// for it, and it is cached even if that request is cancelled.
		go c.run(context.WithoutCancel(ctx), f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if f.err == nil {
		return f.tok, nil
	}
	// A renewal ahead of time that failed: keep using the valid token.
	if cur != nil && cur != stale && now.Before(cur.Expiry.Add(-staleMargin)) {
		c.log.Warn("token renewal failed; using the current token until it expires", "jti", cur.JTI, "expiry", cur.Expiry, "err", f.err)
		return cur, nil
	}
	return nil, f.err
}

func (c *tokenCache) run(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, DefaultFetchTimeout)
	defer cancel()
	f.tok, f.err = c.fetch(ctx)
	c.mu.Lock()
	if f.err == nil {
		c.tok = f.tok
		c.log.Info("aat obtained", "jti", f.tok.JTI, "type", f.tok.Type, "expiry", f.tok.Expiry, "refresh_at", f.tok.refreshAt)
	}
	c.flight = nil
	c.mu.Unlock()
	close(f.done)
}
