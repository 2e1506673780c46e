package dlp

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
)

const awsKey = "AKIAIOSFODNN7EXAMPLE"

func mustCompile(t testing.TB, cfg Config) *Scanner {
	t.Helper()
	s, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testPatterns() []Pattern {
	return []Pattern{
		{Name: "aws_key", Regex: `AKIA[0-9A-Z]{16}`},
		{Name: "password", Regex: `(?i)password=\S+`, Scope: ScopeAll},
		{Name: "ssn", Regex: `\b\d{3}-\d{2}-\d{4}\b`, Scope: ScopeResponse},
		{Name: "ticket", Regex: `TICKET-\d+`, Scope: ScopeRequest},
	}
}

func TestRedactResponse(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		detect bool
		in     string
		want   string // "" means unchanged, byte for byte
		counts map[string]int
	}{
		{"no match", false, `{"content":[{"type":"text","text":"all clear\nnothing here"}],"isError":false}`, "", nil},
		{"content text", false, `{"content":[{"type":"text","text":"key: ` + awsKey + ` ok"}]}`,
			`{"content":[{"type":"text","text":"key: [REDACTED:aws_key] ok"}]}`, map[string]int{"aws_key": 1}},
		{"structuredContent nested", false, `{"content":[],"structuredContent":{"a":[1,{"b":"x ` + awsKey + `"}],"n":1.50}}`,
			`{"content":[],"structuredContent":{"a":[1,{"b":"x [REDACTED:aws_key]"}],"n":1.50}}`, map[string]int{"aws_key": 1}},
		{"layout kept", false, "{ \"t\" : [ \"" + awsKey + "\" , 1e3 ] }",
			"{ \"t\" : [ \"[REDACTED:aws_key]\" , 1e3 ] }", map[string]int{"aws_key": 1}},
		{"several matches and rules", false, `["` + awsKey + ` and ` + awsKey + `","SSN 123-45-6789","Password=hunter2"]`,
			`["[REDACTED:aws_key] and [REDACTED:aws_key]","SSN [REDACTED:ssn]","[REDACTED:password]"]`,
			map[string]int{"aws_key": 2, "ssn": 1, "password": 1}},
		{"hidden behind escapes", false, `{"text":"\u0041KIAIOSFODNN7EXAMPLE"}`,
			`{"text":"[REDACTED:aws_key]"}`, map[string]int{"aws_key": 1}},
		{"escapes kept around a match", false, `{"text":"line1\nkey=` + awsKey + `\t\"q\" \u00e9"}`,
			`{"text":"line1\nkey=[REDACTED:aws_key]\t\"q\" é"}`, map[string]int{"aws_key": 1}},
		{"object names", false, `{"` + awsKey + `":1}`, `{"[REDACTED:aws_key]":1}`, map[string]int{"aws_key": 1}},
		{"overlap merged", false, `"password=` + awsKey + `"`, `"[REDACTED:password]"`, map[string]int{"password": 1}},
		{"request-only pattern ignored", false, `"TICKET-123"`, "", nil},
		{"scalar string", false, `"` + awsKey + `"`, `"[REDACTED:aws_key]"`, map[string]int{"aws_key": 1}},
		{"no strings", false, `[1,true,null,{"a":2}]`, "", nil},
		{"base64 missed without detection", false, `"` + b64("id "+awsKey) + `"`, "", nil},
		{"base64 std", true, `"data: ` + b64("id "+awsKey) + ` end"`, `"data: [REDACTED:aws_key] end"`, map[string]int{"aws_key": 1}},
		{"base64 url", true, `"` + base64.RawURLEncoding.EncodeToString([]byte("\xfb\xff?"+awsKey)) + `"`, `"[REDACTED:aws_key]"`, map[string]int{"aws_key": 1}},
		{"base64 misaligned", true, `"x` + b64(awsKey) + `"`, `"[REDACTED:aws_key]"`, map[string]int{"aws_key": 1}},
		{"hex", true, `"hex=` + hex.EncodeToString([]byte(awsKey)) + `"`, `"hex=[REDACTED:aws_key]"`, map[string]int{"aws_key": 1}},
		{"encoded clean text", true, `"` + b64("nothing secret in this text at all") + ` ` + strings.Repeat("ab", 20) + `"`, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, Config{Patterns: testPatterns(), DetectEncoding: tt.detect})
			out, counts, err := s.RedactResponse(json.RawMessage(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if string(out) != want {
				t.Errorf("got  %s\nwant %s", out, want)
			}
			if !maps.Equal(counts, tt.counts) {
				t.Errorf("counts %v, want %v", counts, tt.counts)
			}
			if !json.Valid(out) {
				t.Errorf("output is not valid JSON: %s", out)
			}
		})
	}
}

func TestRedactResponseReturnsInputWhenClean(t *testing.T) {
	s := mustCompile(t, Config{Patterns: testPatterns(), DetectEncoding: true})
	in := json.RawMessage(`{"content":[{"type":"text","text":"fine\n"}]}`)
	out, counts, err := s.RedactResponse(in)
	if err != nil || counts != nil || &out[0] != &in[0] || len(out) != len(in) {
		t.Errorf("clean result was copied or changed: %s %v %v", out, counts, err)
	}
}

func TestRedactResponseFailsClosed(t *testing.T) {
	s := mustCompile(t, Config{Patterns: testPatterns()})
	for _, in := range []string{``, `{"a":`, `{"a":"` + awsKey + `"} x`, "\"\x00\""} {
		if out, _, err := s.RedactResponse(json.RawMessage(in)); !errors.Is(err, ErrInvalidJSON) || out != nil {
			t.Errorf("RedactResponse(%q) = %s, %v; want ErrInvalidJSON", in, out, err)
		}
	}
}

func TestRedactDisabled(t *testing.T) {
	off := false
	in := json.RawMessage(`"` + awsKey + `"`)
	for name, s := range map[string]*Scanner{
		"disabled": mustCompile(t, Config{Enabled: &off, Patterns: testPatterns(), ScanRequests: true}),
		"nil":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			if out, counts, err := s.RedactResponse(in); string(out) != string(in) || counts != nil || err != nil {
				t.Errorf("RedactResponse = %s %v %v", out, counts, err)
			}
			if counts, err := s.ScanRequest(in); counts != nil || err != nil {
				t.Errorf("ScanRequest = %v %v", counts, err)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	params := json.RawMessage(`{"name":"send","arguments":{"body":"TICKET-9 ` + awsKey + ` 123-45-6789"}}`)
	tests := []struct {
		name       string
		scan       bool
		wantCounts map[string]int
		wantParams string
	}{
		{"scanning", true, map[string]int{"aws_key": 1, "ticket": 1},
			`{"name":"send","arguments":{"body":"[REDACTED:ticket] [REDACTED:aws_key] 123-45-6789"}}`},
		{"not scanning", false, nil, string(params)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, Config{Patterns: testPatterns(), ScanRequests: tt.scan, OnRequestMatch: ActionRedact})
			counts, err := s.ScanRequest(params)
			if err != nil || !maps.Equal(counts, tt.wantCounts) {
				t.Errorf("ScanRequest = %v %v, want %v", counts, err, tt.wantCounts)
			}
			out, counts, err := s.RedactRequest(params)
			if err != nil || string(out) != tt.wantParams || !maps.Equal(counts, tt.wantCounts) {
				t.Errorf("RedactRequest = %s %v %v", out, counts, err)
			}
		})
	}
}
