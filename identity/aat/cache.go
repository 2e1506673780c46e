package aat

import (
	"container/list"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// MaxCacheSize bounds Config.CacheSize.
const MaxCacheSize = 1 << 20

// CacheMaxAge bounds how long a verified token is remembered, so that
// removing a key from an issuer's key set takes effect within it.
const CacheMaxAge = time.Minute

// verifiedCache remembers the claims of tokens whose signature, issuer and
// claims were verified, keyed by the SHA-256 of the token string, so that
// the same token presented again skips parsing and the signature. It
// holds only verified tokens, at most size of them, each until its exp or
// CacheMaxAge after verification; the oldest goes first when full. It never holds the token itself.
type verifiedCache struct {
	size int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element
	order   *list.List // of *cacheEntry, oldest first
}

type cacheEntry struct {
	key    [sha256.Size]byte
	claims *Claims // private; handed out only as clones
	exp    time.Time
}

func newVerifiedCache(size int) *verifiedCache {
	return &verifiedCache{size: size, entries: make(map[[sha256.Size]byte]*list.Element, min(size, 1024)), order: list.New()}
}

// get returns a copy of the claims of the verified token whose hash is
// key, or nil if there is none or it is past its exp at now (the entry is
// then dropped).
func (c *verifiedCache) get(key [sha256.Size]byte, now time.Time) *Claims {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.exp) {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil
	}
	return e.claims.clone()
}

// put records claims verified at now under key, evicting the oldest entry
// if the cache is full. claims must not be used by anyone else afterwards.
func (c *verifiedCache) put(key [sha256.Size]byte, claims *Claims, now time.Time) {
	exp := claims.Expiry.Time()
	if limit := now.Add(CacheMaxAge); limit.Before(exp) {
		exp = limit
	}
	e := &cacheEntry{key: key, claims: claims, exp: exp}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value = e
		return
	}
	if c.order.Len() >= c.size {
		oldest := c.order.Front()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
	c.entries[key] = c.order.PushBack(e)
}

// len reports how many tokens the cache holds.
func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// clone returns a deep copy of c: no slice or pointer is shared.
func (c *Claims) clone() *Claims {
	d := *c
	d.Audience = slices.Clone(c.Audience)
	d.UserBinding.Groups = slices.Clone(c.UserBinding.Groups)
	d.Capabilities.Tools = slices.Clone(c.Capabilities.Tools)
	if c.Confirmation != nil {
		cnf := *c.Confirmation
		d.Confirmation = &cnf
	}
	return &d
}
