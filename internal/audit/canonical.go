package audit

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// appendCanonical appends the RFC 8785 canonical JSON of rec without its
// hash member: exactly the bytes jcs.Transform(json.Marshal(rec)) gives
// with rec.Hash empty, written directly for the fixed shape of Record.
// Members go in the order of their names (all ASCII, so byte order is the
// UTF-16 order RFC 8785 asks for); optional members follow the omitempty
// rules of Record's tags. Args, arbitrary JSON and rare, takes the generic
// path. Verify recomputes hashes through the generic path only, so the two
// check each other; TestCanonicalMatchesJCS and FuzzCanonical hold them
// equal.
func appendCanonical(b []byte, rec *Record) ([]byte, error) {
	var args []byte
	if len(rec.Args) > 0 {
		// Marshal as encoding/json would inside the record (validates and
		// compacts), then canonicalize the value alone.
		m, err := json.Marshal(rec.Args)
		if err != nil {
			return nil, fmt.Errorf("marshal args: %w", err)
		}
		if args, err = jcs.Transform(m); err != nil {
			return nil, fmt.Errorf("canonicalize args: %w", err)
		}
	}
	b = append(b, '{')
	first := true
	member := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
	}
	str := func(name, v string) {
		if v != "" {
			member(name)
			b = appendString(b, v)
		}
	}
	str("aat_jti", rec.AATJTI)
	str("agent_id", rec.AgentID)
	if args != nil {
		member("args")
		b = append(b, args...)
	}
	str("args_sha256", rec.ArgsSHA256)
	if rec.Code != 0 {
		member("code")
		b = appendInt(b, int64(rec.Code))
	}
	member("decision")
	b = appendString(b, string(rec.Decision))
	str("direction", rec.Direction)
	if len(rec.DLP) > 0 {
		member("dlp")
		var err error
		if b, err = appendCounts(b, rec.DLP); err != nil {
			return nil, err
		}
	}
	str("failed_arg", rec.FailedArg)
	str("failed_rule", rec.FailedRule)
	str("issuer", rec.Issuer)
	str("method", rec.Method)
	str("policy_hash", rec.PolicyHash)
	str("policy_mode", rec.PolicyMode)
	member("prev_hash")
	b = appendString(b, rec.PrevHash)
	str("reason", rec.Reason)
	str("request_id", rec.RequestID)
	member("seq")
	b = appendUint(b, rec.Seq)
	str("session_id", rec.SessionID)
	member("timestamp")
	var err error
	if b, err = appendTime(b, rec.Timestamp); err != nil {
		return nil, err
	}
	str("tool", rec.Tool)
	str("user_id", rec.UserID)
	member("violation")
	b = strconv.AppendBool(b, rec.Violation)
	return append(b, '}'), nil
}

// appendString appends s as an RFC 8785 string: '"' and '\' escaped,
// control characters as \b \t \n \f \r or \u00xx, everything else as its
// UTF-8. As encoding/json does before, each byte of invalid UTF-8 becomes
// U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && asIs[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// asIs marks the bytes appendString copies without a look: ASCII, not a
// control character, '"' or '\\'.
var asIs = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// maxExact is the largest magnitude below which every integer is exactly a
// float64, so its RFC 8785 form is its decimal digits.
const maxExact = 1 << 53

// appendInt appends v as an RFC 8785 number: the JavaScript form of the
// float64 nearest to v, as jcs gives after parsing encoding/json's digits.
func appendInt(b []byte, v int64) []byte {
	if v > -maxExact && v < maxExact {
		return strconv.AppendInt(b, v, 10)
	}
	return appendFloat(b, float64(v))
}

func appendUint(b []byte, v uint64) []byte {
	if v < maxExact {
		return strconv.AppendUint(b, v, 10)
	}
	return appendFloat(b, float64(v))
}

// appendFloat formats an integral float64 of magnitude at least 2^53 and
// below 2^64 (< 1e21): ES6 prints it as its shortest round-trip digits,
// padded with zeros, which is strconv's 'f' with precision -1.
func appendFloat(b []byte, f float64) []byte {
	if math.Abs(f) >= 1e21 { // unreachable for 64-bit integers; kept exact
		s, _ := jcs.NumberToJSON(f) //nolint:errcheck // f is finite
		return append(b, s...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendTime appends t as encoding/json writes a time.Time (RFC 3339 with
// nanoseconds), which needs no escaping.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); t.Location() != time.UTC || y < 0 || y > 9999 {
		// Rare (the Writer stores UTC): let encoding/json format or refuse.
		m, err := t.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("marshal timestamp: %w", err)
		}
		return append(b, m...), nil
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// errDuplicateName is what jcs reports, in its words, for two DLP rule
// names that are equal once invalid UTF-8 is replaced.
var errDuplicateName = errors.New("canonicalize record: duplicate dlp rule name")

// appendCounts appends the dlp object, its names in UTF-16 order.
func appendCounts(b []byte, m map[string]int) ([]byte, error) {
	type entry struct {
		name  string // as encoding/json writes it: invalid UTF-8 replaced
		count int
	}
	entries := make([]entry, 0, len(m))
	for name, n := range m {
		if !utf8.ValidString(name) {
			name = string([]rune(name)) // each invalid byte becomes U+FFFD
		}
		entries = append(entries, entry{name: name, count: n})
	}
	slices.SortFunc(entries, func(x, y entry) int { return compareUTF16(x.name, y.name) })
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			if entries[i-1].name == e.name {
				return nil, errDuplicateName
			}
			b = append(b, ',')
		}
		b = appendString(b, e.name)
		b = append(b, ':')
		b = appendInt(b, int64(e.count))
	}
	return append(b, '}'), nil
}

// compareUTF16 orders valid UTF-8 strings by their UTF-16 code units, the
// order of RFC 8785 member names. It differs from byte order only where a
// character above U+FFFF (a surrogate pair, D800–DBFF first) meets one in
// U+E000–U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			if c := cmp.Compare(firstUnit(ra), firstUnit(rb)); c != 0 {
				return c
			}
			return cmp.Compare(ra, rb) // same high surrogate: the low ones follow the code points
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// firstUnit is the first UTF-16 code unit of r.
func firstUnit(r rune) rune {
	if r < 0x10000 {
		return r
	}
	return 0xD800 + (r-0x10000)>>10
}
