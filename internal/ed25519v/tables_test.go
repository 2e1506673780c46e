package ed25519v

import (
	"crypto/ed25519"
	"testing"
)

// tabled returns the distinct keys holding a table, reachable from the
// cache's entries or its table slots.
func (c *Cache) tabled() int {
	seen := map[*PublicKey]bool{}
	add := func(k *PublicKey) {
		if k != nil && k.tbl.Load() != nil {
			seen[k] = true
		}
	}
	for i := range c.entries {
		add(c.entries[i].Load())
	}
	for i := range c.tables.slots {
		add(c.tables.slots[i].Load())
	}
	return len(seen)
}

// A key's first accepted signature marks it, its second verification
// builds its table and uses it, and later ones use it without allocating.
// A refused signature does not mark a key, and a key made by NewPublicKey
// never has a table.
func TestCacheTableOnSecondVerification(t *testing.T) {
	c := NewCache(0)
	pubs, privs := keyPairs(t, 1)
	msg := []byte("header.payload")
	sig := ed25519.Sign(privs[0], msg)
	k, err := c.Key(pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if c.Verify(pubs[0], []byte("other"), sig) {
			t.Fatal("accepted the signature of another message")
		}
	}
	if k.seen.Load() || k.tbl.Load() != nil {
		t.Fatal("refused signatures marked the key")
	}
	if !c.Verify(pubs[0], msg, sig) {
		t.Fatal("refused")
	}
	if !k.seen.Load() || k.tbl.Load() != nil {
		t.Fatalf("after one verification: seen %v, table %v", k.seen.Load(), k.tbl.Load() != nil)
	}
	if !c.Verify(pubs[0], msg, sig) {
		t.Fatal("refused with a table")
	}
	if k.tbl.Load() == nil || c.tables.builds.Load() != 1 {
		t.Fatalf("after two verifications: table %v, %d builds", k.tbl.Load() != nil, c.tables.builds.Load())
	}
	// One verification a run: under -race, sync.Pool drops a quarter of
	// what is put back, and the hasher is then allocated again.
	other := []byte("other")
	for _, m := range [][]byte{msg, other} {
		if allocs := testing.AllocsPerRun(100, func() {
			if c.Verify(pubs[0], m, sig) != (&m[0] == &msg[0]) {
				t.Fatal("wrong answer")
			}
		}); allocs != 0 {
			t.Fatalf("%v allocations per verification with a table", allocs)
		}
	}
	if n := c.tables.builds.Load(); n != 1 {
		t.Fatalf("%d builds, want 1", n)
	}
	own, err := NewPublicKey(pubs[0])
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if !own.Verify(msg, sig) {
			t.Fatal("refused")
		}
	}
	if own.tbl.Load() != nil {
		t.Fatal("a key made by NewPublicKey has a table")
	}
}

// More keys in use than tableSlots: never more tables than slots, every
// answer right, and builds limited by the credit (without it, nearly every
// verification would rebuild a table another key evicted).
func TestCacheTablesBounded(t *testing.T) {
	c := NewCache(0)
	pubs, privs := keyPairs(t, 3*tableSlots)
	msg := []byte("header.payload")
	sigs := make([][]byte, len(pubs))
	for i := range pubs {
		sigs[i] = ed25519.Sign(privs[i], msg)
	}
	const rounds = 10
	for r := range rounds {
		for i := range pubs {
			if !c.Verify(pubs[i], msg, sigs[i]) {
				t.Fatalf("round %d: key %d refused", r, i)
			}
			j := (i + 1) % len(pubs)
			if c.Verify(pubs[j], msg, sigs[i]) {
				t.Fatalf("round %d: key %d accepted the signature of key %d", r, j, i)
			}
		}
		if n := c.tabled(); n > tableSlots {
			t.Fatalf("round %d: %d keys hold a table, at most %d", r, n, tableSlots)
		}
	}
	verifications := 2 * rounds * len(pubs)
	builds := int(c.tables.builds.Load())
	if builds < tableSlots || builds > maxCredit/buildCost+verifications/buildCost {
		t.Fatalf("%d builds in %d verifications, want between %d and %d",
			builds, verifications, tableSlots, maxCredit/buildCost+verifications/buildCost)
	}
}

// With every slot taken, a key that uses its table between builds keeps
// it: the clock evicts the keys that did not. Each other key is verified
// until its verifications have earned its table.
func TestCacheTableKeepsHotKey(t *testing.T) {
	c := NewCache(0)
	pubs, privs := keyPairs(t, 3*tableSlots)
	msg := []byte("header.payload")
	verify := func(i int) *PublicKey {
		t.Helper()
		if !c.Verify(pubs[i], msg, ed25519.Sign(privs[i], msg)) {
			t.Fatalf("key %d refused", i)
		}
		k, err := c.Key(pubs[i])
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	verify(0)
	if hot := verify(0); hot.tbl.Load() == nil {
		t.Fatal("hot key has no table")
	}
	for i := 1; i < len(pubs); i++ {
		for n := 0; verify(i).tbl.Load() == nil; n++ {
			if n > buildCost+1 {
				t.Fatalf("key %d: no table after %d verifications", i, n+1)
			}
			if verify(0).tbl.Load() == nil {
				t.Fatalf("hot key lost its table to key %d", i)
			}
		}
	}
	if builds := c.tables.builds.Load(); builds != uint64(len(pubs)) {
		t.Fatalf("%d builds for %d keys", builds, len(pubs))
	}
	if n := c.tabled(); n != tableSlots {
		t.Fatalf("%d keys hold a table, want %d", n, tableSlots)
	}
}

// Goroutines sharing a cache, with more keys than table slots, so that
// table builds, uses and evictions race (run with -race).
func TestCacheTablesConcurrent(t *testing.T) {
	c := NewCache(0)
	hammer(t, c, tableSlots+tableSlots/2, 4, 400, func(g, n int) int { return g*13 + n*(g+1) })
	if n := c.tabled(); n > tableSlots {
		t.Fatalf("%d keys hold a table, at most %d", n, tableSlots)
	}
	if c.tables.builds.Load() == 0 {
		t.Fatal("no table built: the case is not exercised")
	}
}
