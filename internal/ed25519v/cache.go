package ed25519v

import (
	"crypto/ed25519"
	"hash/maphash"
	"math/rand/v2"
	"sync/atomic"
)

// DefaultCacheSize is the number of keys a Cache holds when NewCache is
// given zero: about 200 KiB of decoded points, and up to 2 MiB of tables.
const DefaultCacheSize = 1024

// ways is how many keys share a bucket: a new key evicts one of them at
// random, so two keys in use never keep evicting each other.
const ways = 4

// Cache holds up to a fixed number of decoded public keys, looked up by
// their 32 raw bytes. It is safe for concurrent use; a lookup takes no lock
// and allocates nothing. Keys are spread over buckets by a hash with a
// random seed, and a key that does not fit evicts another, so many distinct
// keys cost decoding time but never memory. Up to 64 of its keys also have
// a table that halves their verification time (tables.go).
type Cache struct {
	seed    maphash.Seed
	mask    uint64 // buckets - 1
	entries []atomic.Pointer[PublicKey]
	tables  tableSet
}

// NewCache returns a cache of at least size keys (rounded up to a power of
// two, at least the bucket size); zero or less means DefaultCacheSize.
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	buckets := 1
	for buckets*ways < size {
		buckets *= 2
	}
	c := &Cache{
		seed:    maphash.MakeSeed(),
		mask:    uint64(buckets - 1),
		entries: make([]atomic.Pointer[PublicKey], buckets*ways),
	}
	c.tables.credit.Store(maxCredit)
	return c
}

// Verify reports whether sig is a valid Ed25519 signature of message by
// pub, with the same answer as crypto/ed25519.Verify for every input (and
// false, not a panic, for a pub that is not 32 bytes).
func (c *Cache) Verify(pub, message, sig []byte) bool {
	k, err := c.Key(pub)
	if err != nil {
		return false
	}
	return c.tables.verify(k, message, sig)
}

// Key returns pub decoded, from the cache or decoded now and kept. Keys
// that do not decode are not kept.
func (c *Cache) Key(pub []byte) (*PublicKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, ErrBadKey
	}
	bucket := c.entries[(maphash.Bytes(c.seed, pub)&c.mask)*ways:][:ways]
	for i := range bucket {
		if k := bucket[i].Load(); k != nil && string(k.raw[:]) == string(pub) {
			return k, nil
		}
	}
	k, err := NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	for i := range bucket {
		if bucket[i].CompareAndSwap(nil, k) {
			return k, nil
		}
	}
	bucket[rand.IntN(ways)].Store(k) //nolint:gosec // G404: which entry to evict, not a secret
	return k, nil
}
