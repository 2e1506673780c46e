package policy

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// argString is the string an allow_args regex sees:
//
//   - a string as it is;
//   - null as the empty string; booleans as true and false;
//   - a number in decimal: an integer (no '.', 'e' or 'E') exactly as
//     sent, any other number in its shortest decimal form without an
//     exponent (1.50 → 1.5, 1e3 → 1000); a number float64 cannot hold
//     stays as sent;
//   - an array or object as compact JSON: object keys sorted by their
//     UTF-16 code units (RFC 8785), numbers inside written as above,
//     strings escaped as RFC 8785 does (only '"', '\\' and control
//     characters; no HTML escaping, so "<" stays "<").
//
// The same rules apply at every depth, so a value reads the same inside
// an array as on its own.
func argString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case []any, map[string]any:
		var b strings.Builder
		writeArgJSON(&b, x)
		return b.String()
	}
	if s, ok := scalarString(v); ok {
		return s
	}
	if g, ok := toGeneric(v); ok {
		return argString(g)
	}
	return ""
}

// toGeneric turns other Go values (from a caller of EvaluateToolCall)
// into decoded JSON: map[string]any, []any, string, bool, json.Number, nil.
func toGeneric(v any) (any, bool) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var g any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&g); err != nil {
		return nil, false
	}
	return g, true
}

// scalarString formats booleans and numbers; ok is false for other types.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return numberString(string(x)), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}

func numberString(n string) string {
	if !strings.ContainsAny(n, ".eE") {
		return n // an integer, exactly as sent
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// writeArgJSON writes v as compact JSON by the rules of argString.
func writeArgJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeArgJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return utf16Less(keys[i], keys[j]) })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeArgJSON(b, x[k])
		}
		b.WriteByte('}')
	default:
		if s, ok := scalarString(x); ok {
			b.WriteString(s)
			return
		}
		if g, ok := toGeneric(x); ok {
			writeArgJSON(b, g)
			return
		}
		b.WriteString("null")
	}
}

// writeJSONString writes s as a JSON string the way RFC 8785 does: '"' and
// '\\' escaped, control characters as \b \t \n \f \r or \u00XX, everything
// else (including '<', '>', '&' and U+2028) as is; invalid UTF-8 becomes
// U+FFFD.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\f':
				b.WriteString(`\f`)
			case c == '\r':
				b.WriteString(`\r`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// utf16Less orders strings by their UTF-16 code units, as RFC 8785 sorts
// object keys.
func utf16Less(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] == rb[i] {
			continue
		}
		return utf16Key(ra[i]) < utf16Key(rb[i])
	}
	return len(ra) < len(rb)
}

// utf16Key is the first UTF-16 code unit of r, then the second, packed so
// that comparing keys compares code unit sequences.
func utf16Key(r rune) uint32 {
	if r < 0x10000 {
		return uint32(r) << 16
	}
	r -= 0x10000
	return (0xd800+uint32(r>>10))<<16 | (0xdc00 + uint32(r&0x3ff))
}
