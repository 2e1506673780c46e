package jsonrpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/aip-project/aip/internal/jsonvalid"
)

// ErrDuplicateMember reports an object whose member names repeat, exactly or
// up to case folding. Such objects read differently to different decoders,
// so they are refused rather than guessed at.
var ErrDuplicateMember = errors.New("duplicate member")

// Member is one member of a JSON object, its value raw.
type Member struct {
	Name  string
	Value json.RawMessage
}

// Members returns the members of the JSON object obj in order. It refuses
// invalid JSON, non-objects and repeated names (see ErrDuplicateMember).
func Members(obj json.RawMessage) ([]Member, error) {
	b := trimSpace(obj)
	if !jsonvalid.Valid(b) || len(b) == 0 || b[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return objectMembers(b)
}

// objectMembers is Members on an object jsonvalid.Valid has accepted.
func objectMembers(b []byte) ([]Member, error) {
	ms := make([]Member, 0, 4)
	_ = eachMember(b, func(name, value []byte) error {
		ms = append(ms, Member{Name: intern(name), Value: value})
		return nil
	})
	if name, dup := duplicateName(ms); dup {
		return nil, fmt.Errorf("%w: %s", ErrDuplicateMember, quoteName([]byte(name)))
	}
	return ms, nil
}

// duplicateName reports a name that repeats up to Unicode case folding.
func duplicateName(ms []Member) (string, bool) {
	const pairwiseMax = 16
	if len(ms) <= pairwiseMax {
		for i := range ms {
			for j := i + 1; j < len(ms); j++ {
				if strings.EqualFold(ms[i].Name, ms[j].Name) {
					return ms[j].Name, true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]struct{}, len(ms))
	for _, m := range ms {
		k := foldKey(m.Name)
		if _, ok := seen[k]; ok {
			return m.Name, true
		}
		seen[k] = struct{}{}
	}
	return "", false
}

// foldKey maps s to one representative of its case-folding class: two
// names are equal under strings.EqualFold exactly when their keys are equal.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		lowest := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			lowest = min(lowest, f)
		}
		b.WriteRune(lowest)
	}
	return b.String()
}

// ToolCall is the params of a tools/call request.
type ToolCall struct {
	Name string
	// Arguments is the raw arguments object, nil when absent or null.
	Arguments json.RawMessage
	// Args are the members of Arguments, in order, names unique.
	Args []Member
}

// ToolCall reads m.Params as tools/call params: {"name": string,
// "arguments"?: object}. It does not look at m.Method: whether the
// (normalized) method is tools/call is the caller's decision. Malformed
// params are a *ProtocolError with codes.InvalidParams and m's id.
func (m *Message) ToolCall() (ToolCall, error) {
	if len(m.Params) == 0 || m.Params[0] != '{' {
		return ToolCall{}, invalidParams(m.ID, "tools/call params must be an object")
	}
	params, err := objectMembers(m.Params)
	if err != nil {
		return ToolCall{}, invalidParams(m.ID, "tools/call params: %v", err)
	}
	var tc ToolCall
	var hasName bool
	for _, p := range params {
		switch {
		case p.Name == "name":
			name, ok := stringValue(p.Value)
			if !ok || name == "" {
				return ToolCall{}, invalidParams(m.ID, `tools/call "name" must be a non-empty string`)
			}
			tc.Name, hasName = name, true
		case p.Name == "arguments":
			switch p.Value[0] {
			case 'n':
			case '{':
				tc.Arguments = p.Value
			default:
				return ToolCall{}, invalidParams(m.ID, `tools/call "arguments" must be an object`)
			}
		case strings.EqualFold(p.Name, "name"), strings.EqualFold(p.Name, "arguments"):
			return ToolCall{}, invalidParams(m.ID, "tools/call params member %s differs in case from a known member", quoteName([]byte(p.Name)))
		}
	}
	if !hasName {
		return ToolCall{}, invalidParams(m.ID, `tools/call params lack "name"`)
	}
	if tc.Arguments != nil {
		if tc.Args, err = objectMembers(tc.Arguments); err != nil {
			return ToolCall{}, invalidParams(m.ID, "tools/call arguments: %v", err)
		}
	}
	return tc, nil
}
