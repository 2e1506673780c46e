package token

import (
	"encoding/json"
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
