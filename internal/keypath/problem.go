package keypath

import (
	"fmt"
	"strings"
)

// Problem is one finding, with the key path it concerns. An empty Path
// means the document as a whole.
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

// Problems collects findings in the order they are found. The zero value
// is empty and ready to use.
type Problems []Problem

// Add records a problem at path; the message is fmt.Sprintf(format, args...).
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// AddUnder records problems whose paths are relative to prefix, e.g. the
// dlp section's "patterns[1].regex" under "spec.dlp".
func (ps *Problems) AddUnder(prefix string, inner []Problem) {
	for _, p := range inner {
		switch {
		case p.Path == "":
			p.Path = prefix
		case prefix != "" && p.Path[0] != '[':
			p.Path = prefix + "." + p.Path
		default:
			p.Path = prefix + p.Path
		}
		*ps = append(*ps, p)
	}
}

// Err returns nil when there are no problems, else a *ValidationError
// listing them that matches sentinel with errors.Is and whose message
// starts with prefix and ": ". sentinel may be nil.
func (ps Problems) Err(sentinel error, prefix string) error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps, sentinel: sentinel, prefix: prefix}
}

// ValidationError lists every problem found in a document. Make one with
// Problems.Err.
type ValidationError struct {
	Problems []Problem
	sentinel error
	prefix   string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.prefix)
	b.WriteString(": ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns the sentinel given to Problems.Err, so that
// errors.Is(err, policy.ErrInvalid) holds for a policy's problems.
func (e *ValidationError) Unwrap() error { return e.sentinel }
