package registrytest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/registry"
)

func testUpdateStatus(t *testing.T, newStore NewStore) {
	clk := NewClock()
	s := newStore(t, clk.Now)
	ctx := context.Background()
	mustCreate(t, s, sample("bot-1"))
	steps := []struct {
		name string
		id   string
		to   registry.Status
		err  error
	}{
		{"suspend", "bot-1", registry.StatusSuspended, nil},
		{"suspend again", "bot-1", registry.StatusSuspended, nil},
		{"reactivate", "bot-1", registry.StatusActive, nil},
		{"unknown status", "bot-1", "paused", registry.ErrInvalid},
		{"unknown agent", "nobody", registry.StatusSuspended, registry.ErrNotFound},
		{"revoke", "bot-1", registry.StatusRevoked, nil},
		{"revoke again", "bot-1", registry.StatusRevoked, nil},
		{"reactivate revoked", "bot-1", registry.StatusActive, registry.ErrRevoked},
		{"suspend revoked", "bot-1", registry.StatusSuspended, registry.ErrRevoked},
	}
	want := registry.StatusActive
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(time.Minute)
			before, _ := s.Get(ctx, "bot-1")
			got, err := s.UpdateStatus(ctx, st.id, st.to)
			if st.err != nil {
				if !errors.Is(err, st.err) {
					t.Fatalf("UpdateStatus(%q) = %v, want %v", st.to, err, st.err)
				}
			} else {
				if err != nil {
					t.Fatalf("UpdateStatus(%q): %v", st.to, err)
				}
				changed := want != st.to
				want = st.to
				if got.Status != want {
					t.Fatalf("status = %q, want %q", got.Status, want)
				}
				if wantT := map[bool]time.Time{true: clk.Now(), false: before.UpdatedAt}[changed]; !got.UpdatedAt.Equal(wantT) {
					t.Fatalf("updated_at = %v, want %v", got.UpdatedAt, wantT)
				}
			}
			after, err := s.Get(ctx, "bot-1")
			if err != nil || after.Status != want {
				t.Fatalf("stored status = %v, %v; want %q", after, err, want)
			}
			if !after.CreatedAt.Equal(before.CreatedAt) {
				t.Fatalf("created_at changed")
			}
		})
	}
}

func testCopies(t *testing.T, newStore NewStore) {
	s := newStore(t, NewClock().Now)
	got := mustCreate(t, s, sample("bot-1"))
	got.Capabilities[0] = "rm_rf"
	got.Status = registry.StatusRevoked
	again, err := s.Get(context.Background(), "bot-1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	again.AllowedUsers[0] = "mallory"
	third, _ := s.Get(context.Background(), "bot-1")
	if third.Capabilities[0] != "read_file" || third.Status != registry.StatusActive || third.AllowedUsers[0] != "alice" {
		t.Fatalf("store shares memory with returned agents: %+v", third)
	}
}
