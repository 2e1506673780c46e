package binding

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of the stores.
var (
	ErrNotFound = errors.New("binding not found")
	ErrInvalid  = errors.New("invalid binding")
)

// Binding lets Agent act for User with Scopes until Expiry.
type Binding struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`             // the IdP's user id (the AAT sub)
	Email    string    `json:"email,omitempty"`  // for people reading lists
	Groups   []string  `json:"groups,omitempty"` // at bind time; agents may allow groups
	Issuer   string    `json:"idp_issuer"`       // the IdP that authenticated User
	Agent    string    `json:"agent"`
	Scopes   []string  `json:"scopes"` // tools the person allowed
	Expiry   time.Time `json:"expiry"`
	AuthTime time.Time `json:"auth_time"` // when the person authenticated
	// CreatedAt is set by the store.
	CreatedAt time.Time `json:"created_at"`
}

// Active reports whether b has not expired at now.
func (b *Binding) Active(now time.Time) bool { return now.Before(b.Expiry) }

// Check reports what makes b unfit to store.
func (b *Binding) Check() error {
	switch {
	case b.ID == "" || len(b.ID) > 128:
		return fmt.Errorf("%w: id is required (at most 128 bytes)", ErrInvalid)
	case b.User == "":
		return fmt.Errorf("%w: user is required", ErrInvalid)
	case b.Agent == "":
		return fmt.Errorf("%w: agent is required", ErrInvalid)
	case len(b.Scopes) == 0 || slices.Contains(b.Scopes, ""):
		return fmt.Errorf("%w: at least one non-empty scope is required", ErrInvalid)
	case b.Expiry.IsZero():
		return fmt.Errorf("%w: expiry is required", ErrInvalid)
	}
	return nil
}

// Filter selects bindings; empty fields match all.
type Filter struct {
	User  string
	Agent string
}

func (f Filter) match(b *Binding) bool {
	return (f.User == "" || b.User == f.User) && (f.Agent == "" || b.Agent == f.Agent)
}

// Store keeps bindings. Expired bindings are never returned.
type Store interface {
	// Create stores b (b.ID must be new); CreatedAt is set from the
	// store's clock.
	Create(ctx context.Context, b Binding) (*Binding, error)
	// Get returns an active binding, or ErrNotFound.
	Get(ctx context.Context, id string) (*Binding, error)
	// List returns the active bindings matching f, oldest first.
	List(ctx context.Context, f Filter) ([]Binding, error)
	// Revoke deletes one binding, or returns ErrNotFound.
	Revoke(ctx context.Context, id string) (*Binding, error)
	// RevokeUser deletes every binding of user at once (offboarding) and
	// returns them.
	RevokeUser(ctx context.Context, user string) ([]Binding, error)
}

// NewID returns a random binding id.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("binding id: %w", err)
	}
	return "bnd_" + hex.EncodeToString(b[:]), nil
}

func sortByCreation(bs []Binding) {
	slices.SortFunc(bs, func(a, b Binding) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

func clone(b Binding) Binding {
	b.Groups = slices.Clone(b.Groups)
	b.Scopes = slices.Clone(b.Scopes)
	return b
}
