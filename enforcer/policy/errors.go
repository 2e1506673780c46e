package policy

import (
	"errors"

	"github.com/aip-project/aip/internal/keypath"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrInvalid marks a policy that failed decoding or validation; the
	// error is a *ValidationError listing every problem, or wraps the
	// YAML syntax error.
	ErrInvalid = errors.New("invalid policy")
	// ErrTooLarge marks input over MaxSize.
	ErrTooLarge = errors.New("policy too large")
	// ErrSignatureInvalid marks a policy whose metadata.signature does not
	// verify against the trusted key (AIP -32010).
	ErrSignatureInvalid = errors.New("policy signature invalid")
)

// Problem is one validation finding, with the key path it concerns
// (e.g. "spec.tool_rules[2].acton").
type Problem = keypath.Problem

// ValidationError lists every problem found in a policy document; it
// matches ErrInvalid with errors.Is and its message starts
// "invalid policy: ".
type ValidationError = keypath.ValidationError

// invalid returns ps as a *ValidationError, or nil when it is empty.
func invalid(ps keypath.Problems) error { return ps.Err(ErrInvalid, "invalid policy") }
