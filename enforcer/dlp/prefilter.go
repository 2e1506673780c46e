package dlp

import (
	"bytes"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// A prefilter is a set of literals of which every match of a pattern
// contains at least one. Searching for them is far faster than the regexp
// engine's scan, so text holding none of them skips the pattern. A nil
// prefilter filters nothing.
type prefilter []literal

// literal is a required string; fold means ASCII case-insensitive, and
// unicodeFold that some letter also folds to a non-ASCII rune (k to the
// Kelvin sign, s to long s), which an ASCII search cannot see.
type literal struct {
	text        []byte
	fold        bool
	unicodeFold bool
}

// mayMatch reports whether text contains one of the literals.
func (p prefilter) mayMatch(text []byte) bool {
	if p == nil {
		return true
	}
	for _, lit := range p {
		switch {
		case !lit.fold:
			if bytes.Contains(text, lit.text) {
				return true
			}
		case lit.unicodeFold && !isASCII(text), containsFoldASCII(text, lit.text):
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether text contains lit (lowercase ASCII)
// ignoring ASCII case.
func containsFoldASCII(text, lit []byte) bool {
	first := lit[0]
	for i := 0; i+len(lit) <= len(text); i++ {
		if c := text[i] | 0x20; c == first && bytes.EqualFold(text[i:i+len(lit)], lit) {
			return true
		}
	}
	return false
}

// foldLiteral makes a case-insensitive literal of ASCII runes; ok is false
// when a rune is not ASCII.
func foldLiteral(runes []rune) (literal, bool) {
	lit := literal{fold: true}
	for _, r := range runes {
		if r >= utf8.RuneSelf {
			return literal{}, false
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f >= utf8.RuneSelf {
				lit.unicodeFold = true
			}
		}
		lit.text = append(lit.text, byte(unicode.ToLower(r)))
	}
	return lit, true
}

// newPrefilter derives the literals of expr; nil when it has none
// (e.g. only case-insensitive text).
func newPrefilter(expr string) prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return requiredLiterals(re)
}

func requiredLiterals(re *syntax.Regexp) prefilter {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		if re.Flags&syntax.FoldCase == 0 {
			return prefilter{{text: []byte(string(re.Rune))}}
		}
		if lit, ok := foldLiteral(re.Rune); ok {
			return prefilter{lit}
		}
		return nil
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any required part will do; take the most selective.
		var best prefilter
		for _, sub := range re.Sub {
			if p := requiredLiterals(sub); p != nil && (best == nil || p.shortest() > best.shortest()) {
				best = p
			}
		}
		return best
	case syntax.OpAlternate:
		var all prefilter
		for _, sub := range re.Sub {
			p := requiredLiterals(sub)
			if p == nil {
				return nil
			}
			all = append(all, p...)
		}
		return all
	}
	return nil
}

func (p prefilter) shortest() int {
	n := -1
	for _, lit := range p {
		if n < 0 || len(lit.text) < n {
			n = len(lit.text)
		}
	}
	return n
}
