package policy

import (
	"errors"
	"strings"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrInvalid marks a policy that failed decoding or validation; the
	// error is a *ValidationError listing every problem.
	ErrInvalid = errors.New("invalid policy")
	// ErrTooLarge marks input over MaxSize.
	ErrTooLarge = errors.New("policy too large")
	// ErrSignatureInvalid marks a policy whose metadata.signature does not
	// verify against the trusted key (AIP -32010).
	ErrSignatureInvalid = errors.New("policy signature invalid")
)

// Problem is one validation finding, with the key path it concerns
// (e.g. "spec.tool_rules[2].acton").
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found in a policy document.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid policy: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }
