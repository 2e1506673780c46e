package glob

import (
	"errors"
	"regexp"
	"strings"
)

// maxLen bounds a pattern.
const maxLen = 512

// Glob is a compiled pattern, matched against the whole value:
//
//   - `*` matches any run of characters (possibly empty) except `/`;
//   - `**` matches any run of characters, `/` included;
//   - every other character, `?`, `[` and `\` included, matches itself.
//
// There is no escape: a value holding a literal `*` is matched by `*`. A
// pattern without `*` is an exact comparison.
type Glob struct {
	pattern string
	re      *regexp.Regexp
}

// Compile checks pattern: non-empty, at most 512 bytes, no run of
// three or more `*`.
func Compile(pattern string) (*Glob, error) {
	switch {
	case pattern == "":
		return nil, errors.New("empty pattern")
	case len(pattern) > maxLen:
		return nil, errors.New("pattern longer than 512 bytes")
	case strings.Contains(pattern, "***"):
		return nil, errors.New("use * (within a path segment) or ** (across /), not ***")
	}
	var b strings.Builder
	b.WriteString(`\A`)
	for rest := pattern; rest != ""; {
		switch {
		case strings.HasPrefix(rest, "**"):
			b.WriteString(`(?s:.*)`)
			rest = rest[2:]
		case rest[0] == '*':
			b.WriteString(`[^/]*`)
			rest = rest[1:]
		default:
			i := strings.IndexByte(rest, '*')
			if i < 0 {
				i = len(rest)
			}
			b.WriteString(regexp.QuoteMeta(rest[:i]))
			rest = rest[i:]
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, err
	}
	return &Glob{pattern: pattern, re: re}, nil
}

// Match reports whether the whole of s matches.
func (g *Glob) Match(s string) bool { return g.re.MatchString(s) }

// Literal reports whether the pattern has no wildcard (exact comparison).
func (g *Glob) Literal() bool { return !strings.Contains(g.pattern, "*") }

// LiteralPrefix is the part of the pattern before its first wildcard.
func (g *Glob) LiteralPrefix() string {
	p, _, _ := strings.Cut(g.pattern, "*")
	return p
}

// String returns the pattern as written.
func (g *Glob) String() string { return g.pattern }
