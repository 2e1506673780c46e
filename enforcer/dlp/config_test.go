package dlp

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // every one must appear in the error
	}{
		{"missing name", Config{Patterns: []Pattern{{Regex: "x"}}}, []string{"patterns[0].name: required"}},
		{"duplicate name", Config{Patterns: []Pattern{{Name: "a", Regex: "x"}, {Name: "a", Regex: "y"}}}, []string{"patterns[1].name:"}},
		{"bad regex", Config{Patterns: []Pattern{{Name: "a", Regex: "("}}}, []string{"patterns[0].regex:"}},
		{"backreference is not RE2", Config{Patterns: []Pattern{{Name: "a", Regex: `(a)\1`}}}, []string{"patterns[0].regex:"}},
		{"matches empty", Config{Patterns: []Pattern{{Name: "a", Regex: "x*"}}}, []string{"patterns[0].regex: matches the empty string"}},
		{"only assertions", Config{Patterns: []Pattern{{Name: "a", Regex: `^\b$`}}}, []string{"patterns[0].regex: matches the empty string"}},
		{"bad scope", Config{Patterns: []Pattern{{Name: "a", Regex: "x", Scope: "both"}}}, []string{"patterns[0].scope:"}},
		{"unknown builtin", Config{Patterns: []Pattern{{Name: "nope"}}}, []string{`patterns[0].regex: required ("nope" is not a built-in pattern; built-ins: anthropic_key, `}},
		{"bad action", Config{OnRequestMatch: "drop"}, []string{"on_request_match:"}},
		{"every problem at once", Config{OnRequestMatch: "drop", Patterns: []Pattern{{Regex: "("}, {Name: "b", Regex: "y?", Scope: "x"}}},
			[]string{"on_request_match:", "patterns[0].name", "patterns[0].regex", "patterns[1].scope", "patterns[1].regex"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.cfg)
			if err == nil {
				t.Fatal("Compile: want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCompileConfigError(t *testing.T) {
	_, err := Compile(Config{OnRequestMatch: "drop", Patterns: []Pattern{{Name: "a", Regex: "x*"}, {Name: "jwt"}, {Name: "b", Regex: "(", Scope: "x"}}})
	var cerr *ConfigError
	if !errors.As(err, &cerr) {
		t.Fatalf("Compile error %v is not a *ConfigError", err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.Path)
	}
	want := []string{"on_request_match", "patterns[0].regex", "patterns[2].scope", "patterns[2].regex"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problem paths = %v, want %v", got, want)
	}
	if !IsBuiltin("jwt") || IsBuiltin("nope") {
		t.Error("IsBuiltin")
	}
}

func TestCompileDefaults(t *testing.T) {
	off := false
	tests := []struct {
		name         string
		cfg          Config
		enabled      bool
		scanRequests bool
		action       Action
	}{
		{"zero config", Config{}, true, false, ActionBlock},
		{"disabled", Config{Enabled: &off, ScanRequests: true}, false, false, ActionBlock},
		{"requests warn", Config{ScanRequests: true, OnRequestMatch: ActionWarn}, true, true, ActionWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.Enabled() != tt.enabled || s.ScansRequests() != tt.scanRequests || s.OnRequestMatch() != tt.action {
				t.Errorf("enabled=%v scans=%v action=%s", s.Enabled(), s.ScansRequests(), s.OnRequestMatch())
			}
		})
	}
	var nilScanner *Scanner
	if nilScanner.Enabled() || nilScanner.ScansRequests() {
		t.Error("nil scanner reports enabled")
	}
}

func TestBuiltins(t *testing.T) {
	samples := map[string]struct{ hit, miss string }{
		"aws_access_key": {"key AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPL"},
		"github_token":   {"ghp_" + strings.Repeat("a1B2", 9), "ghp_short"},
		"slack_token":    {"xoxb-1234567890-abcdef", "xoxz-1234567890-abcdef"},
		"google_api_key": {"AIza" + strings.Repeat("x", 35), "AIza" + strings.Repeat("x", 20)},
		"stripe_key":     {"sk_live_" + strings.Repeat("4", 24), "sk_test_" + strings.Repeat("4", 24)},
		"openai_key":     {"sk-proj-" + strings.Repeat("a", 20) + "T3BlbkFJ" + strings.Repeat("b", 20), "sk-" + strings.Repeat("a", 40)},
		"anthropic_key":  {"sk-ant-api03-" + strings.Repeat("Z", 40), "sk-ant-short"},
		"private_key":    {"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"},
		"jwt":            {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJhbGciOiJIUzI1NiJ9"},
	}
	if len(samples) != len(Builtins()) {
		t.Fatalf("test covers %d built-ins, there are %d", len(samples), len(Builtins()))
	}
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			s, err := Compile(Config{Patterns: []Pattern{{Name: name}}})
			if err != nil {
				t.Fatal(err)
			}
			re := s.response.rules[0].re
			if !re.MatchString(samples[name].hit) || re.MatchString(samples[name].miss) {
				t.Errorf("%s: hit=%v miss=%v", name, re.MatchString(samples[name].hit), re.MatchString(samples[name].miss))
			}
		})
	}
}

func TestPrefilter(t *testing.T) {
	tests := []struct {
		expr string
		want []string // nil: no prefilter
	}{
		{`AKIA[0-9A-Z]{16}`, []string{"AKIA"}},
		{`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`, []string{"KIA", "SIA"}},
		{`x?abc`, []string{"abc"}},
		{`(foo|bar)+baz`, []string{"foo", "bar"}},
		{`(?i)password=\S+`, []string{"password="}},
		{`(?i)ĳ`, nil},
		{`a|\d+`, nil},
		{`(?:ab)*c`, []string{"c"}},
		{`(?:ab){0,3}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := newPrefilter(tt.expr)
			if len(got) != len(tt.want) {
				t.Fatalf("prefilter %v, want %q", got, tt.want)
			}
			for i := range got {
				if string(got[i].text) != tt.want[i] {
					t.Errorf("literal %d = %q, want %q", i, got[i].text, tt.want[i])
				}
			}
		})
	}
}

func TestPrefilterFoldCase(t *testing.T) {
	tests := []struct {
		expr, text string
		want       bool
	}{
		{`(?i)password`, "my PassWord is", true},
		{`(?i)password`, "my pass word is", false},
		{`(?i)password`, "paſſword", true}, // long s folds to s: only the regexp can tell
		{`(?i)token`, "TOKEN", true},
		{`(?i)abc`, "xaBcx", true},
		{`(?i)abc`, "éabd", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" "+tt.text, func(t *testing.T) {
			if got := newPrefilter(tt.expr).mayMatch([]byte(tt.text)); got != tt.want {
				t.Errorf("mayMatch = %v, want %v", got, tt.want)
			}
			if tt.want == false && regexp.MustCompile(tt.expr).MatchString(tt.text) {
				t.Errorf("prefilter rejects text the pattern matches")
			}
		})
	}
}
