package policy

import (
	"strconv"
	"strings"
)

// maxArgDepth bounds the nesting scanned; deeper arguments are refused.
const maxArgDepth = 64

// sourceTooDeep is the protected-path "source" of an argument nested too
// deeply to be checked: it is refused (fail closed).
const sourceTooDeep = "(too deep)"

// tokenSeparators split longer strings (shell commands, flags) into
// words that are checked as paths too.
const tokenSeparators = " \t\r\n\"'`;|&<>(),=" //nolint:gosec // shell word separators, not a credential

// scanProtected reports the first argument (as a key path such as
// "files[1]") whose value or key refers to a protected path, and the
// protected entry it hits.
func (p *Policy) scanProtected(args map[string]any) (arg, source string, hit bool) {
	if len(p.protected) == 0 {
		return "", "", false
	}
	for k, v := range args {
		if src, ok := p.checkString(k); ok {
			return k, src, true
		}
		if where, src, ok := p.scanValue(v, 1); ok {
			return k + where, src, true
		}
	}
	return "", "", false
}

func (p *Policy) scanValue(v any, depth int) (where, source string, hit bool) {
	if depth > maxArgDepth {
		return "", sourceTooDeep, true
	}
	switch x := v.(type) {
	case string:
		src, ok := p.checkString(x)
		return "", src, ok
	case []any:
		for i, e := range x {
			if w, src, ok := p.scanValue(e, depth+1); ok {
				return "[" + strconv.Itoa(i) + "]" + w, src, true
			}
		}
	case map[string]any:
		for k, e := range x {
			if src, ok := p.checkString(k); ok {
				return "." + k, src, true
			}
			if w, src, ok := p.scanValue(e, depth+1); ok {
				return "." + k + w, src, true
			}
		}
	}
	return "", "", false
}

// checkString checks s as a path, following symlinks, and, when s has
// several words, each path-like word lexically.
func (p *Policy) checkString(s string) (string, bool) {
	if src, ok := p.checkPath(s, true); ok {
		return src, true
	}
	if !strings.ContainsAny(s, tokenSeparators) {
		return "", false
	}
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest, tokenSeparators)
		tok := rest
		if i >= 0 {
			tok, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if looksLikePath(tok) {
			if src, ok := p.checkPath(tok, false); ok {
				return src, true
			}
		}
	}
	return "", false
}

func looksLikePath(tok string) bool {
	if tok == "" {
		return false
	}
	switch tok[0] {
	case '/', '~', '.', '$':
		return true
	}
	return strings.IndexByte(tok, '/') >= 0 || hasFileScheme(tok)
}

// checkPath expands s and matches it, and with resolve its
// symlink-resolved form, against the protected paths.
func (p *Policy) checkPath(s string, resolve bool) (string, bool) {
	abs, ok := p.paths.expand(s)
	if !ok {
		return "", false
	}
	if src, ok := p.matchProtected(abs); ok {
		return src, true
	}
	if resolve {
		if real := p.symlinks.resolve(abs); real != abs {
			return p.matchProtected(real)
		}
	}
	return "", false
}

func (p *Policy) matchProtected(abs string) (string, bool) {
	for i := range p.protected {
		if p.protected[i].match(abs) {
			return p.protected[i].source, true
		}
	}
	return "", false
}
