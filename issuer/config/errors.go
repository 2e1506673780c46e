package config

import (
	"errors"
	"strings"
)

// ErrInvalid is wrapped by every configuration problem; the error is a
// *ValidationError listing them all.
var ErrInvalid = errors.New("invalid configuration")

// Problem is one finding, with the key path it concerns, e.g.
// "identity_providers[1].issuer_url".
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

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration: ")
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

// problems collects findings.
type problems []Problem

func (p *problems) add(path, msg string) { *p = append(*p, Problem{Path: path, Message: msg}) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}
