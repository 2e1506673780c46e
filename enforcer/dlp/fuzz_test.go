package dlp

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzRedactResponse checks, on arbitrary input, that redaction never
// panics, refuses invalid JSON, keeps valid JSON valid, and leaves no
// plain match of a pattern in any decoded string.
func FuzzRedactResponse(f *testing.F) {
	for _, s := range []string{`{"content":[{"type":"text","text":"` + awsKey + `"}]}`, `"\u0041KIA\n"`, `[1,{"a":"QUtJQUlPU0ZPRE5ON0VYQU1QTEU="}]`, `{`} {
		f.Add([]byte(s))
	}
	s := mustCompile(f, Config{Patterns: []Pattern{{Name: "aws", Regex: `AKIA[0-9A-Z]{16}`}, {Name: "pw", Regex: `(?i)pass\w+`}}, DetectEncoding: true})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := s.RedactResponse(in)
		if !json.Valid(in) {
			if err == nil {
				t.Fatal("invalid JSON accepted")
			}
			return
		}
		if err != nil || !json.Valid(out) {
			t.Fatalf("valid input: err %v, output valid %v", err, json.Valid(out))
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber() // numbers beyond float64 are valid JSON
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		checkNoMatch(t, s, v)
	})
}

func checkNoMatch(t *testing.T, s *Scanner, v any) {
	switch v := v.(type) {
	case string:
		for _, r := range s.response.rules {
			if r.re.MatchString(v) {
				t.Fatalf("pattern %s still matches %q", r.name, v)
			}
		}
	case []any:
		for _, e := range v {
			checkNoMatch(t, s, e)
		}
	case map[string]any:
		for k, e := range v {
			checkNoMatch(t, s, k)
			checkNoMatch(t, s, e)
		}
	}
}
