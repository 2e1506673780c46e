package dlp

import (
	"encoding/json"
	"testing"
)

func TestUnescapeMatchesEncodingJSON(t *testing.T) {
	tests := []string{
		`plain`, ``, `a\nb\tc\"d\\e\/f\b\f\r`, `\u00e9\u4e2d`, `\ud83d\ude00 emoji`,
		`\ud83d lone high`, `\ude00 lone low`, `\ud83d\u0041`, `trailing \\`, "raw é 中",
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			var want string
			if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
				t.Fatal(err)
			}
			if got := string(unescape(nil, []byte(s))); got != want {
				t.Errorf("unescape(%s) = %q, want %q", s, got, want)
			}
			// appendQuoted must round-trip through encoding/json.
			var back string
			if err := json.Unmarshal(appendQuoted(nil, []byte(want)), &back); err != nil || back != want {
				t.Errorf("appendQuoted round trip = %q, %v", back, err)
			}
		})
	}
}
