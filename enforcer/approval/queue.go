package approval

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// DefaultMaxPending bounds the approvals a Queue holds when
// QueueConfig.MaxPending is zero.
const DefaultMaxPending = 1024

// Errors of a Queue.
var (
	// ErrUnknownApproval: no pending approval has this id (settled,
	// expired, abandoned by its caller, or never queued).
	ErrUnknownApproval = errors.New("no pending approval with this id")
	// ErrQueueFull: too many approvals are pending; the call is denied.
	ErrQueueFull = errors.New("too many approvals pending")
)

// Pending is an approval waiting for a person, as the approvals API lists
// it. It holds the arguments' hash, not their values, unless the Queue
// was configured to show them.
type Pending struct {
	ID          string          `json:"id"`
	Tool        string          `json:"tool"`
	ArgsSHA256  string          `json:"args_sha256"`
	Arguments   json.RawMessage `json:"arguments,omitempty"`
	AgentID     string          `json:"agent_id,omitempty"`
	UserID      string          `json:"user_id,omitempty"`
	Policy      string          `json:"policy,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	RequestedAt time.Time       `json:"requested_at"`
	ExpiresAt   time.Time       `json:"expires_at,omitzero"`
}

// QueueConfig configures a Queue. Nil fields have the documented defaults.
type QueueConfig struct {
	// ShowArguments lists the calls' argument values, not only their hash.
	ShowArguments bool
	// Notify is called, in its own goroutine, when an approval is queued
	// (e.g. NewWebhook). Nil: nobody is notified.
	Notify func(Pending)
	// MaxPending bounds the pending approvals; zero: DefaultMaxPending.
	MaxPending int
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
	// Rand is the source of approval ids. Nil: crypto/rand.
	Rand io.Reader
	// Logger receives queued and settled approvals (tool and argument
	// hash, never arguments). Nil discards.
	Logger *slog.Logger
}

// Queue is an Approver that holds each request until a person settles it
// by its id (Settle, from the approvals API) or its context ends (the
// Gate's timeout, the caller gone). It is safe for concurrent use; a
// waiting request holds no lock.
type Queue struct {
	cfg QueueConfig

	mu      sync.Mutex
	pending map[string]*queued
}

type queued struct {
	p      Pending
	answer chan bool // buffered: Settle never blocks
}

var _ Approver = (*Queue)(nil)

// NewQueue returns an empty Queue.
func NewQueue(cfg QueueConfig) *Queue {
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Queue{cfg: cfg, pending: make(map[string]*queued)}
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Approve queues req and waits until it is settled or ctx ends.
func (q *Queue) Approve(ctx context.Context, req Request) (bool, error) {
	var b [16]byte
	if _, err := io.ReadFull(q.cfg.Rand, b[:]); err != nil {
		return false, fmt.Errorf("approval queue: id: %w", err)
	}
	p := Pending{ID: idEncoding.EncodeToString(b[:]), Tool: req.Tool, ArgsSHA256: req.ArgsSHA256,
		AgentID: req.Agent, UserID: req.User, Policy: req.Policy, Reason: req.Reason, RequestedAt: q.cfg.Now().UTC()}
	if q.cfg.ShowArguments {
		p.Arguments = req.Arguments
	}
	if dl, ok := ctx.Deadline(); ok {
		p.ExpiresAt = dl.UTC()
	}
	e := &queued{p: p, answer: make(chan bool, 1)}
	q.mu.Lock()
	if len(q.pending) >= q.cfg.MaxPending {
		q.mu.Unlock()
		return false, fmt.Errorf("approval queue: %w (%d)", ErrQueueFull, q.cfg.MaxPending)
	}
	q.pending[p.ID] = e
	q.mu.Unlock()
	defer q.remove(p.ID)

	q.cfg.Logger.Info("approval pending", "approval_id", p.ID, "tool", p.Tool, "args_sha256", p.ArgsSHA256, "agent_id", p.AgentID)
	if q.cfg.Notify != nil {
		go q.cfg.Notify(p)
	}
	select {
	case ok := <-e.answer:
		return ok, nil
	case <-ctx.Done():
		return false, fmt.Errorf("approval %s: %w", p.ID, ctx.Err())
	}
}

func (q *Queue) remove(id string) {
	q.mu.Lock()
	delete(q.pending, id)
	q.mu.Unlock()
}

// List returns the pending approvals, oldest first.
func (q *Queue) List() []Pending {
	q.mu.Lock()
	out := make([]Pending, 0, len(q.pending))
	for _, e := range q.pending {
		out = append(out, e.p)
	}
	q.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RequestedAt.Equal(out[j].RequestedAt) {
			return out[i].RequestedAt.Before(out[j].RequestedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Settle approves or denies the pending approval id and returns it; the
// waiting call goes on (or is refused) at once.
func (q *Queue) Settle(id string, approve bool) (Pending, error) {
	q.mu.Lock()
	e, ok := q.pending[id]
	if ok {
		delete(q.pending, id)
	}
	q.mu.Unlock()
	if !ok {
		return Pending{}, ErrUnknownApproval
	}
	e.answer <- approve
	return e.p, nil
}
