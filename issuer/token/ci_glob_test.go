package token

import (
	"encoding/json"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"octo-org/deploy", "octo-org/deploy", true},
		{"octo-org/deploy", "octo-org/deploy2", false},
		{"octo-org/deploy", "xocto-org/deploy", false},
		{"octo-org/*", "octo-org/deploy", true},
		{"octo-org/*", "octo-org/", true},
		{"octo-org/*", "octo-org/a/b", false},
		{"octo-org/**", "octo-org/a/b", true},
		{"refs/heads/*", "refs/heads/main", true},
		{"refs/heads/*", "refs/heads/feature/x", false},
		{"refs/heads/**", "refs/heads/feature/x", true},
		{"refs/tags/v*", "refs/tags/v1.2.3", true},
		{"refs/tags/v*", "refs/heads/v1", false},
		{"repo:octo-org/*:ref:refs/heads/main", "repo:octo-org/app:ref:refs/heads/main", true},
		{"repo:octo-org/*:ref:refs/heads/main", "repo:octo-org/app:ref:refs/heads/dev", false},
		{"repo:octo-org/*:**", "repo:octo-org/app:environment:prod", true},
		{"a.b", "axb", false}, // regexp metacharacters are literal
		{"a?", "ab", false},
		{"[ab]", "a", false},
		{"[ab]", "[ab]", true},
		{`a\*`, `a\bc`, true},
		{"*", "", true},
		{"*", "x/y", false},
		{"**", "x/y", true},
		{"line*", "line1\nline2", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.value, func(t *testing.T) {
			g, err := CompileGlob(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Match(tt.value); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompileGlobRefuses(t *testing.T) {
	for _, p := range []string{"", "a***", string(make([]byte, 513))} {
		if _, err := CompileGlob(p); err == nil {
			t.Errorf("CompileGlob(%.10q) accepted", p)
		}
	}
}

func TestGlobPrefix(t *testing.T) {
	g, err := CompileGlob("octo-org/*-svc")
	if err != nil {
		t.Fatal(err)
	}
	if g.Literal() || g.LiteralPrefix() != "octo-org/" {
		t.Errorf("Literal %v, prefix %q", g.Literal(), g.LiteralPrefix())
	}
	if g, _ := CompileGlob("a/b"); !g.Literal() || g.LiteralPrefix() != "a/b" {
		t.Errorf("literal pattern: Literal %v, prefix %q", g.Literal(), g.LiteralPrefix())
	}
}

func TestClaimString(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"octo-org/app"`, "octo-org/app", true},
		{`"123"`, "123", true},
		{`123`, "123", true},
		{`123.0`, "123", true},
		{`1.23e2`, "123", true},
		{`-0`, "0", true},
		{`12345678901234567890123`, "12345678901234567890123", true},
		{`1.5`, "1.5", true},
		{`true`, "true", true},
		{`false`, "false", true},
		{`null`, "", false},
		{`["a"]`, "", false},
		{`{"a":1}`, "", false},
		{`1e999`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := claimString(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("claimString(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPolicyMatches(t *testing.T) {
	p := CIPolicy{Audience: "https://aip.example", Conditions: []CICondition{
		cond(t, "repository", "octo-org/*"), cond(t, "repository_id", "690000001"),
		cond(t, "ref", "refs/heads/main"), cond(t, "ref_protected", "true"),
	}}
	base := map[string]string{"repository": `"octo-org/app"`, "repository_id": `"690000001"`, "ref": `"refs/heads/main"`, "ref_protected": `"true"`}
	tests := []struct {
		name   string
		aud    []string
		change map[string]string // "" deletes the claim
		want   bool
	}{
		{"all match", []string{"https://aip.example"}, nil, true},
		{"one of several audiences", []string{"other", "https://aip.example"}, nil, true},
		{"numeric id as a number", []string{"https://aip.example"}, map[string]string{"repository_id": `690000001`}, true},
		{"boolean as a boolean", []string{"https://aip.example"}, map[string]string{"ref_protected": `true`}, true},
		{"unprotected ref", []string{"https://aip.example"}, map[string]string{"ref_protected": `false`}, false},
		{"another repository id", []string{"https://aip.example"}, map[string]string{"repository_id": `690000002`}, false},
		{"another owner", []string{"https://aip.example"}, map[string]string{"repository": `"evil-org/app"`}, false},
		{"missing claim", []string{"https://aip.example"}, map[string]string{"ref_protected": ""}, false},
		{"null claim", []string{"https://aip.example"}, map[string]string{"ref": `null`}, false},
		{"array claim", []string{"https://aip.example"}, map[string]string{"ref": `["refs/heads/main"]`}, false},
		{"wrong audience", []string{"https://other.example"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := map[string]json.RawMessage{}
			for k, v := range base {
				claims[k] = json.RawMessage(v)
			}
			for k, v := range tt.change {
				if v == "" {
					delete(claims, k)
				} else {
					claims[k] = json.RawMessage(v)
				}
			}
			if got := p.matches(tt.aud, claims); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func cond(t *testing.T, claim, pattern string) CICondition {
	t.Helper()
	g, err := CompileGlob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return CICondition{Claim: claim, Pattern: g}
}
