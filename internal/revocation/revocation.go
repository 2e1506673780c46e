package revocation

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
)

// Kind is what a revocation applies to.
type Kind string

// Kinds of revocation, in the order Check reports them.
const (
	KindAgent   Kind = "agent"
	KindUser    Kind = "user"
	KindSession Kind = "session"
	KindJTI     Kind = "jti"
)

// Errors callers branch on.
var (
	// ErrInvalid means a revocation is malformed.
	ErrInvalid = errors.New("invalid revocation")
	// ErrUnavailable means the backend cannot answer (Redis unreachable,
	// or a cache out of sync): callers deny.
	ErrUnavailable = errors.New("revocation backend unavailable")
	// ErrRevoked is wrapped by Revocation.Err for callers that turn a
	// Check result into an error.
	ErrRevoked = errors.New("revoked")
)

const (
	maxSubjectLen = 512
	maxReasonLen  = 512
)

// Revocation revokes one subject of one kind.
type Revocation struct {
	Kind    Kind   `json:"kind"`
	Subject string `json:"subject"` // agent id, user id, session id or jti
	Reason  string `json:"reason,omitempty"`
	// RevokedAt is set to the store's clock when zero.
	RevokedAt time.Time `json:"revoked_at"`
	// ExpiresAt is when the revocation may be forgotten; zero means never.
	// A jti revocation should expire with its token; agent and user ones
	// usually never do.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Err returns an error wrapping ErrRevoked that names the subject.
func (r *Revocation) Err() error {
	return fmt.Errorf("%s %q: %w", r.Kind, r.Subject, ErrRevoked)
}

// activeAt reports whether r is in force at now.
func (r *Revocation) activeAt(now time.Time) bool {
	return r.ExpiresAt.IsZero() || now.Before(r.ExpiresAt)
}

// prepare fills RevokedAt and validates r at now.
func prepare(r Revocation, now time.Time) (Revocation, error) {
	if r.RevokedAt.IsZero() {
		r.RevokedAt = now
	}
	r.RevokedAt = r.RevokedAt.UTC()
	if !r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.ExpiresAt.UTC()
	}
	return r, r.validate(now)
}

func (r *Revocation) validate(now time.Time) error {
	switch r.Kind {
	case KindAgent, KindUser, KindSession, KindJTI:
	default:
		return fmt.Errorf("%w: kind %q: must be agent, user, session or jti", ErrInvalid, r.Kind)
	}
	if r.Subject == "" || len(r.Subject) > maxSubjectLen || hasControl(r.Subject) {
		return fmt.Errorf("%w: subject: must be 1 to %d printable bytes", ErrInvalid, maxSubjectLen)
	}
	if len(r.Reason) > maxReasonLen || hasControl(r.Reason) {
		return fmt.Errorf("%w: reason: at most %d printable bytes", ErrInvalid, maxReasonLen)
	}
	if r.RevokedAt.IsZero() {
		return fmt.Errorf("%w: revoked_at: missing", ErrInvalid)
	}
	if !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) {
		return fmt.Errorf("%w: expires_at %s: already passed", ErrInvalid, r.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

func hasControl(s string) bool {
	for _, c := range s {
		if unicode.IsControl(c) || c == unicode.ReplacementChar {
			return true
		}
	}
	return false
}

// Subjects are the identities of one request, checked together. Empty
// fields are not checked.
type Subjects struct {
	AgentID   string
	UserID    string
	SessionID string
	JTI       string
}

// keys returns the non-empty subjects in Check's order.
func (s Subjects) keys() []key {
	all := []key{{KindAgent, s.AgentID}, {KindUser, s.UserID}, {KindSession, s.SessionID}, {KindJTI, s.JTI}}
	out := all[:0]
	for _, k := range all {
		if k.subject != "" {
			out = append(out, k)
		}
	}
	return out
}

// Snapshot is the list of revocations in force, with a version that
// changes on every revocation (usable as an HTTP ETag).
type Snapshot struct {
	Version     string       `json:"version"`
	Revocations []Revocation `json:"revocations"`
}

// Checker answers whether any subject is revoked: the revocation found
// first (agent, user, session, jti), or nil.
type Checker interface {
	Check(ctx context.Context, s Subjects) (*Revocation, error)
}

// Store records revocations.
type Store interface {
	Checker
	// Revoke records r and returns the record as stored (RevokedAt set,
	// times in UTC). Revoking a subject again replaces the earlier record
	// (reason and expiry) and changes the version.
	Revoke(ctx context.Context, r Revocation) (Revocation, error)
	// List returns the revocations in force, sorted by kind and subject.
	List(ctx context.Context) (Snapshot, error)
}
