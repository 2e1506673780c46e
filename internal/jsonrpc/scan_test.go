package jsonrpc

import (
	"encoding/json"
	"testing"
)

// FuzzStringEnd: stringEnd finds the end of any JSON string token, escaped
// quotes and runs of backslashes included, whatever follows it.
func FuzzStringEnd(f *testing.F) {
	for _, s := range []string{``, `a"b`, `\`, `\\"`, `"\"`, "\\\\\\\"x"} {
		f.Add(s, `,"x":"y\\"}`)
	}
	f.Fuzz(func(t *testing.T, s, rest string) {
		tok, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		b := append(append([]byte(nil), tok...), rest...)
		if got := stringEnd(b, 0); got != len(tok) {
			t.Fatalf("stringEnd(%s + %q) = %d; want %d", tok, rest, got, len(tok))
		}
	})
}
