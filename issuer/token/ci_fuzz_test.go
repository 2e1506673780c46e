package token

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzClaimString: any claim value from a token is either refused or has
// one canonical form, and a JSON string's form is the string itself.
func FuzzClaimString(f *testing.F) {
	for _, s := range []string{`"a/b"`, `123`, `1.5e3`, `-0`, `true`, `null`, `[1]`, `{"a":1}`, `1e999`, `"\u00e9"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, ok := claimString(json.RawMessage(raw))
		if !ok {
			return
		}
		if again, ok2 := claimString(json.RawMessage(raw)); !ok2 || again != s {
			t.Fatalf("not deterministic: %q then %q", s, again)
		}
		var str string
		if json.Unmarshal([]byte(raw), &str) == nil && str != s {
			t.Fatalf("string %s read as %q", raw, s)
		}
	})
}

// FuzzGlob: a pattern compiles or is refused without panicking, a
// literal pattern matches exactly itself, and * never crosses a slash.
func FuzzGlob(f *testing.F) {
	for _, s := range []string{"octo-org/*", "refs/heads/**", "a.b", "[x]", `\*`, "***", ""} {
		f.Add(s, "octo-org/app")
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		g, err := CompileGlob(pattern)
		if err != nil {
			return
		}
		if g.Literal() && g.Match(value) != (pattern == value) {
			t.Fatalf("literal %q vs %q: Match %v", pattern, value, g.Match(value))
		}
		if !strings.Contains(pattern, "**") && strings.Count(value, "/") != strings.Count(pattern, "/") && g.Match(value) {
			t.Fatalf("%q matched %q: * crossed a slash", pattern, value)
		}
	})
}
