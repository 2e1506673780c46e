package registrytest

import (
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/registry"
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

// NewStore returns a fresh, empty store that reads the time from now.
type NewStore func(t *testing.T, now func() time.Time) registry.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"CreateGet", testCreateGet},
		{"CreateInvalid", testCreateInvalid},
		{"CreateConflicts", testCreateConflicts},
		{"ConcurrentCreate", testConcurrentCreate},
		{"List", testList},
		{"Lookups", testLookups},
		{"UpdateStatus", testUpdateStatus},
		{"CopiesAreIndependent", testCopies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore) })
	}
}

func sample(id string) registry.Agent {
	return registry.Agent{
		ID:            id,
		SPIFFEID:      "spiffe://example.org/agent/" + id,
		PublicKey:     EdPublic(id),
		Name:          "Agent " + id,
		Owner:         "team-a",
		Capabilities:  []string{"read_file", "search"},
		AllowedUsers:  []string{"alice"},
		AllowedGroups: []string{"eng"},
	}
}

func mustCreate(t *testing.T, s registry.Store, a registry.Agent) *registry.Agent {
	t.Helper()
	got, err := s.Create(context.Background(), a)
	if err != nil {
		t.Fatalf("Create(%q): %v", a.ID, err)
	}
	return got
}

func testCreateGet(t *testing.T, newStore NewStore) {
	clk := NewClock()
	s := newStore(t, clk.Now)
	ctx := context.Background()
	created := mustCreate(t, s, sample("bot-1"))
	got, err := s.Get(ctx, "bot-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	for _, a := range []*registry.Agent{created, got} {
		if a.Status != registry.StatusActive {
			t.Errorf("status = %q, want active", a.Status)
		}
		if !a.CreatedAt.Equal(clk.Now()) || !a.UpdatedAt.Equal(clk.Now()) {
			t.Errorf("timestamps = %v/%v, want %v", a.CreatedAt, a.UpdatedAt, clk.Now())
		}
		want, _ := registry.Thumbprint(EdPublic("bot-1"))
		if a.KeyThumbprint != want || want == "" {
			t.Errorf("thumbprint = %q, want %q", a.KeyThumbprint, want)
		}
		if a.PublicKey == nil || !a.PublicKey.IsPublic() {
			t.Errorf("stored key is missing or private")
		}
		if fmt.Sprintf("%v %v %v %s %s %s", a.Capabilities, a.AllowedUsers, a.AllowedGroups, a.Name, a.Owner, a.SPIFFEID) !=
			"[read_file search] [alice] [eng] Agent bot-1 team-a spiffe://example.org/agent/bot-1" {
			t.Errorf("fields not kept: %+v", a)
		}
	}
	if _, err := s.Get(ctx, "nobody"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func testCreateInvalid(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	tests := []struct {
		name   string
		mutate func(*registry.Agent)
	}{
		{"no identity", func(a *registry.Agent) { a.SPIFFEID, a.PublicKey = "", nil }},
		{"bad id", func(a *registry.Agent) { a.ID = "Bad/Id" }},
		{"bad spiffe id", func(a *registry.Agent) { a.SPIFFEID = "https://example.org/x" }},
		{"private key", func(a *registry.Agent) { a.PublicKey = EdKey("bot-1") }},
		{"rsa key", func(a *registry.Agent) { a.PublicKey = rsaKey(t) }},
		{"p-384 key", func(a *registry.Agent) { a.PublicKey = ecKey(t, elliptic.P384()) }},
		{"alg mismatch", func(a *registry.Agent) { a.PublicKey.Algorithm = "ES256" }},
		{"created revoked", func(a *registry.Agent) { a.Status = registry.StatusRevoked }},
		{"unknown status", func(a *registry.Agent) { a.Status = "paused" }},
		{"duplicate capability", func(a *registry.Agent) { a.Capabilities = []string{"x", "x"} }},
		{"empty group", func(a *registry.Agent) { a.AllowedGroups = []string{""} }},
		{"control char in name", func(a *registry.Agent) { a.Name = "a\nb" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sample("bot-1")
			tt.mutate(&a)
			if _, err := s.Create(context.Background(), a); !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("Create = %v, want ErrInvalid", err)
			}
		})
	}
	if l, err := s.List(context.Background()); err != nil || len(l) != 0 {
		t.Fatalf("after invalid creates, List = %d agents, %v; want none", len(l), err)
	}
	// Accepted variants.
	p256 := sample("p256")
	p256.PublicKey = ecKey(t, elliptic.P256())
	spiffeOnly := sample("spiffe-only")
	spiffeOnly.PublicKey = nil
	keyOnly := sample("key-only")
	keyOnly.SPIFFEID = ""
	suspended := sample("suspended")
	suspended.Status = registry.StatusSuspended
	for _, a := range []registry.Agent{p256, spiffeOnly, keyOnly, suspended} {
		mustCreate(t, s, a)
	}
}

func testCreateConflicts(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	mustCreate(t, s, sample("bot-1"))
	if _, err := s.UpdateStatus(context.Background(), "bot-1", registry.StatusRevoked); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	tests := []struct {
		name string
		a    registry.Agent
	}{
		{"same id", func() registry.Agent {
			a := sample("bot-1")
			a.SPIFFEID, a.PublicKey = "spiffe://x/y", EdPublic("other")
			return a
		}()},
		{"same spiffe id", func() registry.Agent { a := sample("bot-2"); a.SPIFFEID = "spiffe://example.org/agent/bot-1"; return a }()},
		{"same key", func() registry.Agent { a := sample("bot-3"); a.PublicKey = EdPublic("bot-1"); return a }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Create(context.Background(), tt.a); !errors.Is(err, registry.ErrExists) {
				t.Fatalf("Create = %v, want ErrExists", err)
			}
			if _, err := s.Get(context.Background(), tt.a.ID); tt.a.ID != "bot-1" && !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("a refused agent was stored: Get = %v", err)
			}
		})
	}
}

func testConcurrentCreate(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := sample("racer")
			a.SPIFFEID = fmt.Sprintf("spiffe://example.org/r/%d", i)
			a.PublicKey = EdPublic(fmt.Sprint("racer", i))
			_, err := s.Create(context.Background(), a)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, registry.ErrExists):
			t.Errorf("Create = %v, want nil or ErrExists", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent creates of one id succeeded, want 1", ok)
	}
}

func testList(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	l, err := s.List(context.Background())
	if err != nil || l == nil || len(l) != 0 {
		t.Fatalf("List on empty store = %v, %v; want empty non-nil", l, err)
	}
	for _, id := range []string{"c", "a", "b"} {
		mustCreate(t, s, sample(id))
	}
	l, err = s.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, a := range l {
		ids = append(ids, a.ID)
	}
	if fmt.Sprint(ids) != "[a b c]" {
		t.Fatalf("List ids = %v, want [a b c]", ids)
	}
}

func testLookups(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	ctx := context.Background()
	a := mustCreate(t, s, sample("bot-1"))
	keyOnly := sample("bot-2")
	keyOnly.SPIFFEID = ""
	mustCreate(t, s, keyOnly)
	tests := []struct {
		name   string
		lookup func() (*registry.Agent, error)
		want   string // agent id, or "" for ErrNotFound
	}{
		{"by spiffe id", func() (*registry.Agent, error) { return s.GetBySPIFFEID(ctx, a.SPIFFEID) }, "bot-1"},
		{"by thumbprint", func() (*registry.Agent, error) { return s.GetByThumbprint(ctx, a.KeyThumbprint) }, "bot-1"},
		{"key only by thumbprint", func() (*registry.Agent, error) {
			jkt, _ := registry.Thumbprint(EdPublic("bot-2"))
			return s.GetByThumbprint(ctx, jkt)
		}, "bot-2"},
		{"unknown spiffe id", func() (*registry.Agent, error) { return s.GetBySPIFFEID(ctx, "spiffe://example.org/agent/x") }, ""},
		{"unknown thumbprint", func() (*registry.Agent, error) { return s.GetByThumbprint(ctx, "AAAA") }, ""},
		{"empty spiffe id", func() (*registry.Agent, error) { return s.GetBySPIFFEID(ctx, "") }, ""},
		{"empty thumbprint", func() (*registry.Agent, error) { return s.GetByThumbprint(ctx, "") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.lookup()
			if tt.want == "" {
				if !errors.Is(err, registry.ErrNotFound) {
					t.Fatalf("lookup = %v, %v; want ErrNotFound", got, err)
				}
				return
			}
			if err != nil || got.ID != tt.want {
				t.Fatalf("lookup = %v, %v; want %q", got, err, tt.want)
			}
		})
	}
}
