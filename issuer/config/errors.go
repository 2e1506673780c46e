package config

import (
	"errors"

	"github.com/aip-project/aip/internal/keypath"
)

// ErrInvalid is wrapped by every configuration problem; the error is a
// *ValidationError listing them all.
var ErrInvalid = errors.New("invalid configuration")

// Problem is one finding, with the key path it concerns, e.g.
// "identity_providers[1].issuer_url".
type Problem = keypath.Problem

// ValidationError lists every problem found in a configuration; it
// matches ErrInvalid with errors.Is and its message starts
// "invalid configuration: ".
type ValidationError = keypath.ValidationError

// invalid returns ps as a *ValidationError, or nil when it is empty.
func invalid(ps keypath.Problems) error { return ps.Err(ErrInvalid, "invalid configuration") }
