package ed25519v

import "sync/atomic"

// tableSlots is how many keys of a Cache have a table at most: 64 tables
// of 30 KiB, 2 MiB.
const tableSlots = 64

// A table costs about as much to build as a few verifications, and saves
// half of each verification after. Builds are paid for by verifications
// made without a table: each earns one credit, a build spends buildCost,
// and a Cache starts with (and holds at most) maxCredit. With more keys in
// use than tableSlots, keys keep evicting each other's tables; this bounds
// the time spent rebuilding them to a small part of the verifications that
// went without.
const (
	buildCost = 16
	maxCredit = tableSlots * buildCost
)

// tableSet is a Cache's keys that have a table: a fixed array of slots,
// evicted by a clock (second chance: the hand passes over a key that used
// its table since the last pass, and clears its mark). It takes no lock; a
// table is built by the verification that asked for it, while the others
// go on, with or without theirs.
type tableSet struct {
	slots  [tableSlots]atomic.Pointer[PublicKey]
	hand   atomic.Uint32
	credit atomic.Int64
	builds atomic.Uint64 // tables built, for tests
}

// verify verifies with k's table if it has one, builds it on the key's
// second verification (the first accepted signature marks it), and
// otherwise verifies as PublicKey.Verify does.
func (s *tableSet) verify(k *PublicKey, message, sig []byte) bool {
	if t := k.tbl.Load(); t != nil {
		if !k.used.Load() {
			k.used.Store(true)
		}
		return k.verify(message, sig, t)
	}
	if k.seen.Load() {
		s.build(k)
		if t := k.tbl.Load(); t != nil {
			return k.verify(message, sig, t)
		}
	}
	if s.credit.Load() < maxCredit {
		s.credit.Add(1)
	}
	ok := k.verify(message, sig, nil)
	if ok && !k.seen.Load() {
		k.seen.Store(true)
	}
	return ok
}

// build gives k a table, unless another verification is building it, the
// credit is spent, or every slot is in use.
func (s *tableSet) build(k *PublicKey) {
	if !k.building.CompareAndSwap(false, true) {
		return
	}
	defer k.building.Store(false)
	if k.tbl.Load() != nil || !s.spend() {
		return
	}
	slot := s.victim()
	if slot == nil {
		s.credit.Add(buildCost)
		return
	}
	k.used.Store(true)
	k.tbl.Store(newTable(&k.negA))
	// The key holds its table before it is in a slot, and an evicted key
	// loses it after it left its slot: no table outlives its slot.
	if old := slot.Swap(k); old != nil && old != k {
		old.tbl.Store(nil)
	}
	s.builds.Add(1)
}

func (s *tableSet) spend() bool {
	for {
		c := s.credit.Load()
		if c < buildCost {
			return false
		}
		if s.credit.CompareAndSwap(c, c-buildCost) {
			return true
		}
	}
}

// victim advances the clock hand to a slot that is free, or whose key has
// not used its table since the hand last passed, clearing the marks it
// passes. After one turn without one it gives up: the key that asked tries
// again on its next verification, and keys that used their tables
// meanwhile are marked again and kept (a second turn would evict the
// first key passed, however hot).
func (s *tableSet) victim() *atomic.Pointer[PublicKey] {
	for range tableSlots {
		slot := &s.slots[(s.hand.Add(1)-1)%tableSlots]
		k := slot.Load()
		if k == nil || k.tbl.Load() == nil || !k.used.Load() {
			return slot
		}
		k.used.Store(false)
	}
	return nil
}
