package audit

import (
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// appendJCS appends the RFC 8785 form of src, an object, array or string
// that json.Valid accepts, without the generic library's allocations. ok
// is false for what it leaves to jcs.Transform, whose answer (including
// its refusals) is then the one to use: a scalar at the top level,
// surrogate escapes, invalid UTF-8 in a string, duplicate names, numbers
// jcs refuses. When ok, the bytes equal jcs.Transform(src)
// (TestAppendJCSMatchesJCS, FuzzAppendJCS).
func appendJCS(dst, src []byte) (out []byte, ok bool) {
	c := canonicalizer{src: src}
	c.space()
	if c.i >= len(src) || (src[c.i] != '{' && src[c.i] != '[' && src[c.i] != '"') {
		return dst, false
	}
	if dst, ok = c.value(dst); !ok {
		return dst, false
	}
	c.space()
	return dst, c.i == len(src)
}

type canonicalizer struct {
	src []byte
	i   int
}

func (c *canonicalizer) space() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// next skips space and returns the next byte, 0 at the end.
func (c *canonicalizer) next() byte {
	c.space()
	if c.i >= len(c.src) {
		return 0
	}
	return c.src[c.i]
}

func (c *canonicalizer) value(dst []byte) ([]byte, bool) {
	switch c.next() {
	case '{':
		return c.object(dst)
	case '[':
		return c.array(dst)
	case '"':
		s, ok := c.str()
		if !ok {
			return dst, false
		}
		return appendString(dst, s), true
	case 0:
		return dst, false
	}
	return c.scalar(dst)
}

func (c *canonicalizer) array(dst []byte) ([]byte, bool) {
	c.i++ // [
	dst = append(dst, '[')
	for n := 0; ; n++ {
		switch c.next() {
		case ']':
			c.i++
			return append(dst, ']'), true
		case ',':
			if n == 0 {
				return dst, false
			}
			c.i++
			dst = append(dst, ',')
		case 0:
			return dst, false
		default:
			if n > 0 {
				return dst, false
			}
		}
		var ok bool
		if dst, ok = c.value(dst); !ok {
			return dst, false
		}
	}
}

type jcsMember struct {
	name       string
	start, end int // the canonical value in the object's buffer
}

func (c *canonicalizer) object(dst []byte) ([]byte, bool) {
	c.i++                              // {
	members := make([]jcsMember, 0, 8) // on the stack while small
	// The canonical values are about as long as their source; bounded, as
	// every nested object makes its own.
	vals := make([]byte, 0, min(len(c.src)-c.i, 512))
	for {
		b := c.next()
		if b == '}' {
			c.i++
			break
		}
		if len(members) > 0 {
			if b != ',' {
				return dst, false
			}
			c.i++
			b = c.next()
		}
		if b != '"' {
			return dst, false
		}
		name, ok := c.str()
		if !ok || c.next() != ':' {
			return dst, false
		}
		c.i++
		start := len(vals)
		if vals, ok = c.value(vals); !ok {
			return dst, false
		}
		members = append(members, jcsMember{name: name, start: start, end: len(vals)})
	}
	slices.SortFunc(members, func(x, y jcsMember) int { return compareUTF16(x.name, y.name) })
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			if members[i-1].name == m.name {
				return dst, false // jcs refuses duplicate names
			}
			dst = append(dst, ',')
		}
		dst = appendString(dst, m.name)
		dst = append(dst, ':')
		dst = append(dst, vals[m.start:m.end]...)
	}
	return append(dst, '}'), true
}

// str decodes the string at c.i (a '"'). It declines surrogate escapes and
// invalid UTF-8, which jcs treats in its own way.
func (c *canonicalizer) str() (string, bool) {
	c.i++ // "
	start := c.i
	for c.i < len(c.src) {
		b := c.src[c.i]
		switch {
		case b == '"':
			s := string(c.src[start:c.i])
			c.i++
			return s, utf8.ValidString(s)
		case b == '\\':
			return c.escapedStr(start)
		case b < 0x20:
			return "", false
		}
		c.i++
	}
	return "", false
}

func (c *canonicalizer) escapedStr(start int) (string, bool) {
	buf := append([]byte(nil), c.src[start:c.i]...)
	for c.i < len(c.src) {
		b := c.src[c.i]
		switch {
		case b == '"':
			c.i++
			return string(buf), utf8.Valid(buf)
		case b < 0x20:
			return "", false
		case b != '\\':
			buf = append(buf, b)
			c.i++
			continue
		}
		if c.i+1 >= len(c.src) {
			return "", false
		}
		e := c.src[c.i+1]
		c.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if c.i+4 > len(c.src) {
				return "", false
			}
			u, err := strconv.ParseUint(string(c.src[c.i:c.i+4]), 16, 16)
			if err != nil || utf16.IsSurrogate(rune(u)) {
				return "", false
			}
			buf = utf8.AppendRune(buf, rune(u))
			c.i += 4
		default:
			return "", false
		}
	}
	return "", false
}

// scalar canonicalizes a literal or a number as jcs does: numbers through
// float64 and the ES6 format.
func (c *canonicalizer) scalar(dst []byte) ([]byte, bool) {
	start := c.i
	for c.i < len(c.src) && !endsScalar(c.src[c.i]) {
		c.i++
	}
	tok := c.src[start:c.i]
	switch string(tok) {
	case "true", "false", "null":
		return append(dst, tok...), true
	case "":
		return dst, false
	}
	if n, ok := smallInt(tok); ok {
		return strconv.AppendInt(dst, n, 10), true
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return dst, false
	}
	s, err := jcs.NumberToJSON(f)
	if err != nil {
		return dst, false
	}
	return append(dst, s...), true
}

func endsScalar(b byte) bool {
	switch b {
	case ',', ']', '}', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// smallInt parses a JSON integer of at most 15 digits, exact as a float64;
// "-0" becomes 0, as in ES6.
func smallInt(tok []byte) (int64, bool) {
	neg := len(tok) > 0 && tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	if len(digits) == 0 || len(digits) > 15 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n int64
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
