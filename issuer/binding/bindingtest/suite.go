// Package bindingtest is the conformance suite every binding.Store passes.
package bindingtest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/binding"
)

// Clock is a settable test clock. It starts at the real time (rounded to
// the second) because Redis expires keys by its own clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at the current second.
func NewClock() *Clock { return &Clock{t: time.Now().Truncate(time.Second)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// NewStore returns a fresh, empty store reading the time from now.
type NewStore func(t *testing.T, now func() time.Time) binding.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, binding.Store, *Clock)
	}{
		{"CreateGet", testCreateGet},
		{"CreateInvalid", testCreateInvalid},
		{"List", testList},
		{"Expiry", testExpiry},
		{"Revoke", testRevoke},
		{"RevokeUser", testRevokeUser},
		{"ConcurrentRevokeUser", testConcurrentRevokeUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := NewClock()
			tt.fn(t, newStore(t, clk.Now), clk)
		})
	}
}

// Sample is a valid binding of user to agent expiring an hour after now.
func Sample(id, user, agent string, now time.Time) binding.Binding {
	return binding.Binding{ID: id, User: user, Email: user + "@example.com", Groups: []string{"eng"},
		Issuer: "https://idp.example.com", Agent: agent, Scopes: []string{"read_file", "search"},
		Expiry: now.Add(time.Hour).UTC(), AuthTime: now.Add(-time.Minute).UTC()}
}

func mustCreate(t *testing.T, s binding.Store, b binding.Binding) *binding.Binding {
	t.Helper()
	got, err := s.Create(context.Background(), b)
	if err != nil {
		t.Fatalf("Create(%s): %v", b.ID, err)
	}
	return got
}

func ids(bs []binding.Binding) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.ID)
	}
	slices.Sort(out)
	return out
}

func testCreateGet(t *testing.T, s binding.Store, clk *Clock) {
	ctx := context.Background()
	want := Sample("b1", "alice", "bot", clk.Now())
	created := mustCreate(t, s, want)
	if !created.CreatedAt.Equal(clk.Now()) {
		t.Errorf("CreatedAt = %v, want the store clock %v", created.CreatedAt, clk.Now())
	}
	got, err := s.Get(ctx, "b1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.User != want.User || got.Agent != want.Agent || !slices.Equal(got.Scopes, want.Scopes) ||
		!got.Expiry.Equal(want.Expiry) || !got.AuthTime.Equal(want.AuthTime) || got.Issuer != want.Issuer ||
		got.Email != want.Email || !slices.Equal(got.Groups, want.Groups) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if _, err := s.Create(ctx, want); !errors.Is(err, binding.ErrInvalid) {
		t.Errorf("Create of an existing id = %v, want ErrInvalid", err)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, binding.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func testCreateInvalid(t *testing.T, s binding.Store, clk *Clock) {
	for name, mod := range map[string]func(*binding.Binding){
		"no id":       func(b *binding.Binding) { b.ID = "" },
		"no user":     func(b *binding.Binding) { b.User = "" },
		"no agent":    func(b *binding.Binding) { b.Agent = "" },
		"no scopes":   func(b *binding.Binding) { b.Scopes = nil },
		"empty scope": func(b *binding.Binding) { b.Scopes = []string{"a", ""} },
		"no expiry":   func(b *binding.Binding) { b.Expiry = time.Time{} },
	} {
		t.Run(name, func(t *testing.T) {
			b := Sample("bad", "alice", "bot", clk.Now())
			mod(&b)
			if _, err := s.Create(context.Background(), b); !errors.Is(err, binding.ErrInvalid) {
				t.Errorf("Create = %v, want ErrInvalid", err)
			}
		})
	}
}

func testList(t *testing.T, s binding.Store, clk *Clock) {
	ctx := context.Background()
	mustCreate(t, s, Sample("b1", "alice", "bot", clk.Now()))
	clk.Advance(time.Second)
	mustCreate(t, s, Sample("b2", "alice", "crawler", clk.Now()))
	clk.Advance(time.Second)
	mustCreate(t, s, Sample("b3", "bob", "bot", clk.Now()))
	for _, tc := range []struct {
		name string
		f    binding.Filter
		want []string
	}{
		{"all", binding.Filter{}, []string{"b1", "b2", "b3"}},
		{"user", binding.Filter{User: "alice"}, []string{"b1", "b2"}},
		{"agent", binding.Filter{Agent: "bot"}, []string{"b1", "b3"}},
		{"both", binding.Filter{User: "bob", Agent: "bot"}, []string{"b3"}},
		{"none", binding.Filter{User: "carol"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(ctx, tc.f)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("List(%+v) = %v, want %v", tc.f, ids(got), tc.want)
			}
		})
	}
	all, _ := s.List(ctx, binding.Filter{})
	if len(all) == 3 && (all[0].ID != "b1" || all[2].ID != "b3") {
		t.Errorf("List order = %v, want oldest first", []string{all[0].ID, all[1].ID, all[2].ID})
	}
}

func testExpiry(t *testing.T, s binding.Store, clk *Clock) {
	ctx := context.Background()
	short := Sample("short", "alice", "bot", clk.Now())
	short.Expiry = clk.Now().Add(time.Minute)
	mustCreate(t, s, short)
	mustCreate(t, s, Sample("long", "alice", "bot", clk.Now()))
	clk.Advance(2 * time.Minute)
	if _, err := s.Get(ctx, "short"); !errors.Is(err, binding.ErrNotFound) {
		t.Errorf("Get(expired) = %v, want ErrNotFound", err)
	}
	got, err := s.List(ctx, binding.Filter{Agent: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), []string{"long"}) {
		t.Errorf("List after expiry = %v, want [long]", ids(got))
	}
}

func testRevoke(t *testing.T, s binding.Store, clk *Clock) {
	ctx := context.Background()
	mustCreate(t, s, Sample("b1", "alice", "bot", clk.Now()))
	mustCreate(t, s, Sample("b2", "alice", "bot", clk.Now()))
	got, err := s.Revoke(ctx, "b1")
	if err != nil || got.ID != "b1" {
		t.Fatalf("Revoke = %v, %v", got, err)
	}
	if _, err := s.Get(ctx, "b1"); !errors.Is(err, binding.ErrNotFound) {
		t.Errorf("Get(revoked) = %v, want ErrNotFound", err)
	}
	if _, err := s.Revoke(ctx, "b1"); !errors.Is(err, binding.ErrNotFound) {
		t.Errorf("Revoke twice = %v, want ErrNotFound", err)
	}
	for _, f := range []binding.Filter{{}, {User: "alice"}, {Agent: "bot"}} {
		l, err := s.List(ctx, f)
		if err != nil || !slices.Equal(ids(l), []string{"b2"}) {
			t.Errorf("List(%+v) after revoke = %v, %v; want [b2]", f, ids(l), err)
		}
	}
}

func testRevokeUser(t *testing.T, s binding.Store, clk *Clock) {
	ctx := context.Background()
	mustCreate(t, s, Sample("a1", "alice", "bot", clk.Now()))
	mustCreate(t, s, Sample("a2", "alice", "crawler", clk.Now()))
	mustCreate(t, s, Sample("b1", "bob", "bot", clk.Now()))
	got, err := s.RevokeUser(ctx, "alice")
	if err != nil {
		t.Fatalf("RevokeUser: %v", err)
	}
	if !slices.Equal(ids(got), []string{"a1", "a2"}) {
		t.Errorf("RevokeUser returned %v, want [a1 a2]", ids(got))
	}
	l, err := s.List(ctx, binding.Filter{})
	if err != nil || !slices.Equal(ids(l), []string{"b1"}) {
		t.Errorf("List after RevokeUser = %v, %v; want [b1]", ids(l), err)
	}
	l, _ = s.List(ctx, binding.Filter{Agent: "bot"})
	if !slices.Equal(ids(l), []string{"b1"}) {
		t.Errorf("List(agent) after RevokeUser = %v, want [b1]", ids(l))
	}
	if got, err := s.RevokeUser(ctx, "alice"); err != nil || len(got) != 0 {
		t.Errorf("RevokeUser again = %v, %v; want none", ids(got), err)
	}
}

// A binding created while the user is being revoked either survives
// whole or is gone whole: never listed by agent but not by user.
func testConcurrentRevokeUser(t *testing.T, s binding.Store, clk *Clock) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Create(ctx, Sample("c"+string(rune('a'+i)), "alice", "bot", clk.Now()))
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = s.RevokeUser(ctx, "alice") }()
	wg.Wait()
	byUser, err1 := s.List(ctx, binding.Filter{User: "alice"})
	byAgent, err2 := s.List(ctx, binding.Filter{Agent: "bot"})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !slices.Equal(ids(byUser), ids(byAgent)) {
		t.Errorf("by user %v and by agent %v differ", ids(byUser), ids(byAgent))
	}
}
