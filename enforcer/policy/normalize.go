package policy

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the canonical form of a tool or method name, used for
// every comparison: Unicode NFKC, lowercase, control and format characters
// (Cc, Cf: zero-width space and joiners, BOM, bidi marks) removed, spaces
// trimmed. So "ｅｘｅｃ＿ｃｏｍｍａｎｄ", "Exec_Command" and
// "exec\u200b_command" are all "exec_command".
//
// Plain lowercase ASCII names, the common case, are returned without
// allocating.
func Normalize(name string) string {
	if isPlainASCII(name) {
		return name
	}
	s := strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	s = norm.NFKC.String(s)
	s = strings.ToLower(s)
	// Lowercasing can leave a string outside NFKC (rarely); settle it.
	s = norm.NFKC.String(s)
	return strings.TrimSpace(s)
}

// isPlainASCII reports whether s is already normalized: printable ASCII
// without uppercase letters and without surrounding spaces.
func isPlainASCII(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}
