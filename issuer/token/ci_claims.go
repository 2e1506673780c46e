package token

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// claimString returns a claim value in the canonical string form
// conditions are compared with: a string as is, a number in decimal
// (integers without exponent or fraction: 42, 4.2e1 and 42.0 are all "42"),
// a boolean as "true" or "false". Other values (null, arrays, objects)
// have no string form: ok is false and a condition on them fails.
func claimString(raw json.RawMessage) (s string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", false
		}
		return canonicalNumber(n.String())
	}
	return "", false
}

// canonicalNumber writes a JSON number: an integer literal exactly as
// written (ids beyond 2^53 stay exact; "-0" is "0"), any other in the
// shortest decimal form without exponent (4.2e1 and 42.0 are "42").
func canonicalNumber(lit string) (string, bool) {
	if !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" {
			return "0", true
		}
		return lit, true
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}
