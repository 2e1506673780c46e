package registry

import (
	"context"
	"errors"
	"fmt"
)

// Errors returned by stores. Callers branch on them with errors.Is.
var (
	// ErrNotFound means no agent has that id, SPIFFE ID or key.
	ErrNotFound = errors.New("agent not found")
	// ErrExists means the agent id, its SPIFFE ID or its key is already
	// registered (to any agent, revoked ones included).
	ErrExists = errors.New("agent already exists")
	// ErrRevoked means the agent is revoked and cannot change status.
	ErrRevoked = errors.New("agent revoked")
	// ErrInvalid means the agent or the request is malformed.
	ErrInvalid = errors.New("invalid agent")
	// ErrUnavailable means the backend (e.g. Redis) cannot be reached;
	// callers fail closed.
	ErrUnavailable = errors.New("registry unavailable")
)

// Store is the agent registry.
//
// Ids, SPIFFE IDs and key thumbprints are unique across all agents ever
// created: a revoked agent keeps them, so a revoked key never comes back.
// Returned agents are copies the caller may modify.
type Store interface {
	// Create registers a (see Prepare for the defaults it fills in).
	Create(ctx context.Context, a Agent) (*Agent, error)
	// Get returns the agent with id.
	Get(ctx context.Context, id string) (*Agent, error)
	// List returns every agent, sorted by id.
	List(ctx context.Context) ([]Agent, error)
	// UpdateStatus moves agent id to status s. Setting the current status
	// again is a no-op; leaving StatusRevoked fails with ErrRevoked.
	UpdateStatus(ctx context.Context, id string, s Status) (*Agent, error)
	// GetBySPIFFEID returns the agent registered with SPIFFE ID sid.
	GetBySPIFFEID(ctx context.Context, sid string) (*Agent, error)
	// GetByThumbprint returns the agent whose key has RFC 7638 thumbprint
	// jkt (base64url, as in DPoP).
	GetByThumbprint(ctx context.Context, jkt string) (*Agent, error)
}

// checkTransition reports whether an agent may move from status from to
// status to. A move to the same status is allowed (a no-op).
func checkTransition(id string, from, to Status) error {
	if !to.Valid() {
		return fmt.Errorf("%w: status %q: must be active, suspended or revoked", ErrInvalid, to)
	}
	if from == StatusRevoked && to != StatusRevoked {
		return fmt.Errorf("set agent %q %s: %w (revocation is final)", id, to, ErrRevoked)
	}
	return nil
}

func notFound(kind, v string) error {
	return fmt.Errorf("agent with %s %q: %w", kind, v, ErrNotFound)
}
