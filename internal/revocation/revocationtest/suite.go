package revocationtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/revocation"
)

// Clock is a settable test clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// NewStore returns a fresh, empty store reading the time from now.
type NewStore func(t *testing.T, now func() time.Time) revocation.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"CheckEachKind", testCheckEachKind},
		{"CheckOrder", testCheckOrder},
		{"Expiry", testExpiry},
		{"Invalid", testInvalid},
		{"ReplaceAndVersion", testReplaceAndVersion},
		{"ListSorted", testListSorted},
		{"Concurrent", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

func mustRevoke(t *testing.T, s revocation.Store, r revocation.Revocation) revocation.Revocation {
	t.Helper()
	got, err := s.Revoke(context.Background(), r)
	if err != nil {
		t.Fatalf("Revoke(%s %q): %v", r.Kind, r.Subject, err)
	}
	return got
}

func check(t *testing.T, s revocation.Store, sub revocation.Subjects) *revocation.Revocation {
	t.Helper()
	r, err := s.Check(context.Background(), sub)
	if err != nil {
		t.Fatalf("Check(%+v): %v", sub, err)
	}
	return r
}

func testCheckEachKind(t *testing.T, newStore NewStore) {
	clk := NewClock()
	s := newStore(t, clk.Now)
	if r := check(t, s, revocation.Subjects{}); r != nil {
		t.Fatalf("Check(empty) = %+v, want nil", r)
	}
	tests := []struct {
		kind revocation.Kind
		sub  func(string) revocation.Subjects
	}{
		{revocation.KindAgent, func(v string) revocation.Subjects { return revocation.Subjects{AgentID: v} }},
		{revocation.KindUser, func(v string) revocation.Subjects { return revocation.Subjects{UserID: v} }},
		{revocation.KindSession, func(v string) revocation.Subjects { return revocation.Subjects{SessionID: v} }},
		{revocation.KindJTI, func(v string) revocation.Subjects { return revocation.Subjects{JTI: v} }},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			v := "x:" + string(tt.kind) // colons must survive key encodings
			if r := check(t, s, tt.sub(v)); r != nil {
				t.Fatalf("before revoking: %+v", r)
			}
			stored := mustRevoke(t, s, revocation.Revocation{Kind: tt.kind, Subject: v, Reason: "compromised"})
			r := check(t, s, tt.sub(v))
			if r == nil || r.Kind != tt.kind || r.Subject != v || r.Reason != "compromised" || !r.RevokedAt.Equal(clk.Now()) {
				t.Fatalf("Check = %+v, want the %s revocation at %v", r, tt.kind, clk.Now())
			}
			// Revoke returns the record as stored, with the store's time.
			if stored != *r {
				t.Fatalf("Revoke returned %+v, but stored %+v", stored, *r)
			}
			if !errors.Is(r.Err(), revocation.ErrRevoked) {
				t.Fatalf("Err() = %v, want ErrRevoked", r.Err())
			}
			if r := check(t, s, tt.sub(v+"-other")); r != nil {
				t.Fatalf("another subject is revoked: %+v", r)
			}
		})
	}
	// The same value under another kind is not revoked.
	mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindUser, Subject: "shared-name"})
	if r := check(t, s, revocation.Subjects{AgentID: "shared-name", SessionID: "shared-name", JTI: "shared-name"}); r != nil {
		t.Fatalf("a user revocation matched another kind: %+v", r)
	}
}

func testCheckOrder(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindJTI, Subject: "j1"})
	mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindSession, Subject: "s1"})
	mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindAgent, Subject: "a1"})
	tests := []struct {
		name string
		sub  revocation.Subjects
		want revocation.Kind
	}{
		{"agent first", revocation.Subjects{AgentID: "a1", UserID: "u", SessionID: "s1", JTI: "j1"}, revocation.KindAgent},
		{"session before jti", revocation.Subjects{AgentID: "a2", UserID: "u", SessionID: "s1", JTI: "j1"}, revocation.KindSession},
		{"jti alone", revocation.Subjects{AgentID: "a2", UserID: "u", SessionID: "s2", JTI: "j1"}, revocation.KindJTI},
		{"none", revocation.Subjects{AgentID: "a2", UserID: "u", SessionID: "s2", JTI: "j2"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, s, tt.sub)
			if (r == nil) != (tt.want == "") || (r != nil && r.Kind != tt.want) {
				t.Fatalf("Check = %+v, want kind %q", r, tt.want)
			}
		})
	}
}

func testExpiry(t *testing.T, newStore NewStore) {
	clk := NewClock()
	s := newStore(t, clk.Now)
	mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindJTI, Subject: "j1", ExpiresAt: clk.Now().Add(5 * time.Minute)})
	mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindAgent, Subject: "a1"})
	if r := check(t, s, revocation.Subjects{JTI: "j1"}); r == nil {
		t.Fatal("jti not revoked before its expiry")
	}
	clk.Advance(5 * time.Minute)
	if r := check(t, s, revocation.Subjects{JTI: "j1"}); r != nil {
		t.Fatalf("jti still revoked at its expiry: %+v", r)
	}
	snap, err := s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(snap.Revocations) != 1 || snap.Revocations[0].Subject != "a1" {
		t.Fatalf("List after expiry = %+v, want only agent a1", snap.Revocations)
	}
	clk.Advance(24 * 365 * time.Hour)
	if r := check(t, s, revocation.Subjects{AgentID: "a1"}); r == nil {
		t.Fatal("an agent revocation without expiry expired")
	}
}

func testInvalid(t *testing.T, newStore NewStore) {
	clk := NewClock()
	s := newStore(t, clk.Now)
	tests := []struct {
		name string
		r    revocation.Revocation
	}{
		{"unknown kind", revocation.Revocation{Kind: "tenant", Subject: "x"}},
		{"no kind", revocation.Revocation{Subject: "x"}},
		{"empty subject", revocation.Revocation{Kind: revocation.KindAgent}},
		{"long subject", revocation.Revocation{Kind: revocation.KindJTI, Subject: strings.Repeat("j", 513)}},
		{"control char", revocation.Revocation{Kind: revocation.KindUser, Subject: "a\nb"}},
		{"long reason", revocation.Revocation{Kind: revocation.KindUser, Subject: "u", Reason: strings.Repeat("r", 513)}},
		{"already expired", revocation.Revocation{Kind: revocation.KindJTI, Subject: "j", ExpiresAt: clk.Now()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Revoke(context.Background(), tt.r); !errors.Is(err, revocation.ErrInvalid) {
				t.Fatalf("Revoke = %v, want ErrInvalid", err)
			}
		})
	}
	snap, err := s.List(context.Background())
	if err != nil || len(snap.Revocations) != 0 {
		t.Fatalf("after invalid revocations List = %+v, %v; want empty", snap, err)
	}
}

func testReplaceAndVersion(t *testing.T, newStore NewStore) {
	clk := NewClock()
	s := newStore(t, clk.Now)
	ctx := context.Background()
	list := func() revocation.Snapshot {
		t.Helper()
		snap, err := s.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		return snap
	}
	v0 := list().Version
	if v0 == "" || list().Version != v0 {
		t.Fatalf("version %q empty or unstable", v0)
	}
	seen := map[string]bool{v0: true}
	for i, reason := range []string{"first", "second", "second"} {
		mustRevoke(t, s, revocation.Revocation{Kind: revocation.KindUser, Subject: "u1", Reason: reason})
		snap := list()
		if seen[snap.Version] {
			t.Fatalf("revocation %d left the version at a seen value %q", i, snap.Version)
		}
		seen[snap.Version] = true
		if len(snap.Revocations) != 1 || snap.Revocations[0].Reason != reason {
			t.Fatalf("List = %+v, want one revocation with reason %q", snap.Revocations, reason)
		}
	}
}

func testListSorted(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	snap, err := s.List(context.Background())
	if err != nil || snap.Revocations == nil {
		t.Fatalf("List on empty store = %+v, %v; want an empty non-nil list", snap, err)
	}
	for _, r := range []revocation.Revocation{
		{Kind: revocation.KindJTI, Subject: "b"}, {Kind: revocation.KindAgent, Subject: "z"},
		{Kind: revocation.KindJTI, Subject: "a"}, {Kind: revocation.KindUser, Subject: "m"},
	} {
		mustRevoke(t, s, r)
	}
	snap, err = s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, r := range snap.Revocations {
		got = append(got, string(r.Kind)+":"+r.Subject)
	}
	if fmt.Sprint(got) != "[agent:z user:m jti:a jti:b]" {
		t.Fatalf("List order = %v", got)
	}
}

func testConcurrent(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Revoke(context.Background(), revocation.Revocation{Kind: revocation.KindJTI, Subject: fmt.Sprint("j", i)}); err != nil {
				t.Errorf("Revoke: %v", err)
			}
			if _, err := s.Check(context.Background(), revocation.Subjects{JTI: fmt.Sprint("j", i)}); err != nil {
				t.Errorf("Check: %v", err)
			}
		}()
	}
	wg.Wait()
	snap, err := s.List(context.Background())
	if err != nil || len(snap.Revocations) != n {
		t.Fatalf("List = %d revocations, %v; want %d", len(snap.Revocations), err, n)
	}
}
