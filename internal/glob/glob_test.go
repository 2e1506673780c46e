package glob_test

import (
	"strings"
	"testing"

	"github.com/aip-project/aip/internal/glob"
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
			g, err := glob.Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.Match(tt.value); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, p := range []string{"", "a***", string(make([]byte, 513))} {
		if _, err := glob.Compile(p); err == nil {
			t.Errorf("glob.Compile(%.10q) accepted", p)
		}
	}
}

func TestLiteralPrefix(t *testing.T) {
	g, err := glob.Compile("octo-org/*-svc")
	if err != nil {
		t.Fatal(err)
	}
	if g.Literal() || g.LiteralPrefix() != "octo-org/" {
		t.Errorf("Literal %v, prefix %q", g.Literal(), g.LiteralPrefix())
	}
	if g, _ := glob.Compile("a/b"); !g.Literal() || g.LiteralPrefix() != "a/b" {
		t.Errorf("literal pattern: Literal %v, prefix %q", g.Literal(), g.LiteralPrefix())
	}
}

// FuzzCompile: a pattern compiles or is refused without panicking, a
// literal pattern matches exactly itself, and * never crosses a slash.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"octo-org/*", "refs/heads/**", "a.b", "[x]", `\*`, "***", ""} {
		f.Add(s, "octo-org/app")
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		g, err := glob.Compile(pattern)
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
