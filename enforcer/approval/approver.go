package approval

import (
	"context"
	"encoding/json"
	"errors"
)

// Request is what an approver is asked about. It is written as JSON to a
// Command approver's stdin.
type Request struct {
	// Tool is the normalized tool name.
	Tool string `json:"tool"`
	// Arguments are the call's arguments as the client sent them (with any
	// token stripped); {} when absent.
	Arguments json.RawMessage `json:"arguments"`
	// ArgsSHA256 is the SHA-256 of the canonical arguments: what the
	// approval will cover.
	ArgsSHA256 string `json:"args_sha256"`
	// Policy and PolicyHash identify the policy that asked.
	Policy     string `json:"policy,omitempty"`
	PolicyHash string `json:"policy_hash"`
	// Agent and User identify the calling agent and the user it acts for
	// when they are known (the sidecar: from the verified AAT).
	Agent string `json:"agent,omitempty"`
	User  string `json:"user,omitempty"`
	// Reason says why the call needs approval.
	Reason string `json:"reason,omitempty"`
}

// Approver asks whether one call may proceed. It returns true to approve,
// false to deny; an error (including ctx's) means no answer and is a deny.
type Approver interface {
	Approve(ctx context.Context, req Request) (bool, error)
}

// ErrNoApprover is returned by None: nobody can be asked.
var ErrNoApprover = errors.New("no approver is configured: start the enforcer with --approver-cmd, or from a terminal")

// None is the Approver used when neither a command nor a terminal is
// available: it denies every ask.
type None struct{}

var _ Approver = None{}

// Approve always fails with ErrNoApprover.
func (None) Approve(context.Context, Request) (bool, error) { return false, ErrNoApprover }

// Outcome is how an ask ended.
type Outcome int

// Outcomes.
const (
	Approved Outcome = iota
	Denied
	TimedOut
)

func (o Outcome) String() string {
	switch o {
	case Approved:
		return "approved"
	case TimedOut:
		return "timed out"
	}
	return "denied"
}
