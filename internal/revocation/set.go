package revocation

import (
	"cmp"
	"slices"
	"time"
)

// key identifies a revocation: its kind and subject.
type key struct {
	kind    Kind
	subject string
}

func keyOf(r *Revocation) key { return key{r.Kind, r.Subject} }

// set is an in-memory collection of revocations, shared by Local and
// Cache. It is not safe for concurrent use.
type set map[key]Revocation

// check returns the first revocation in force at now for s, or nil.
func (m set) check(s Subjects, now time.Time) *Revocation {
	for _, k := range s.keys() {
		if r, ok := m[k]; ok && r.activeAt(now) {
			return &r
		}
	}
	return nil
}

// list returns the revocations in force at now, sorted.
func (m set) list(now time.Time) []Revocation {
	out := make([]Revocation, 0, len(m))
	for _, r := range m {
		if r.activeAt(now) {
			out = append(out, r)
		}
	}
	sortRevocations(out)
	return out
}

// prune drops revocations expired at now.
func (m set) prune(now time.Time) {
	for k, r := range m {
		if !r.activeAt(now) {
			delete(m, k)
		}
	}
}

func sortRevocations(l []Revocation) {
	slices.SortFunc(l, func(a, b Revocation) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), cmp.Compare(a.Subject, b.Subject))
	})
}

func kindOrder(k Kind) int {
	return slices.Index([]Kind{KindAgent, KindUser, KindSession, KindJTI}, k)
}
