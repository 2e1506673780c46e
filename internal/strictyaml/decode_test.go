package strictyaml_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aip-project/aip/internal/keypath"
	"github.com/aip-project/aip/internal/strictyaml"
)

type rule struct {
	Tool   string            `yaml:"tool"`
	Args   map[string]string `yaml:"args"`
	Strict *bool             `yaml:"strict"`
	Limit  int               `yaml:"limit"`
}

type spec struct {
	Mode   string         `yaml:"mode"`
	Tools  []string       `yaml:"tools"`
	Rules  []rule         `yaml:"rules"`
	Params map[string]any `yaml:"params"`
	Any    any            `yaml:"any"`
	hidden string
}

type doc struct {
	Name string `yaml:"name"`
	Spec spec   `yaml:"spec"`
	Skip string `yaml:"-"`
}

// decode parses src and decodes it into a doc with d, returning the
// problems as "path: message" strings.
func decode(t *testing.T, d *strictyaml.Decoder, src string) (doc, []string) {
	t.Helper()
	var v doc
	root, err := strictyaml.Parse([]byte(src))
	if err != nil {
		return v, []string{"parse: " + err.Error()}
	}
	if root == nil {
		return v, nil
	}
	d.Decode(root, &v)
	var got []string
	for _, p := range d.Problems() {
		got = append(got, p.String())
	}
	return v, got
}

// aliasBomb is a billion-laughs document: 10^9 nodes once aliases are
// expanded, under spec.tools.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String() + "spec:\n  params: {bomb: *a8}\n"
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		dec  strictyaml.Decoder
		src  string
		want []string // exactly these problems, in order; [*] stands for any indexes
	}{
		{"valid", strictyaml.Decoder{}, "name: n\nspec: {mode: m, tools: [a, b], rules: [{tool: t, strict: true, limit: 0x10}]}\n", nil},
		{"empty document", strictyaml.Decoder{}, "# only a comment\n", nil},
		{"nulls keep zero values", strictyaml.Decoder{}, "name: ~\nspec:\n", nil},
		{"unknown top-level key", strictyaml.Decoder{}, "nam: x\n", []string{"nam: unknown field"}},
		{"unknown key at nested path", strictyaml.Decoder{}, "spec:\n  rules:\n    - tool: a\n    - tool: b\n      acton: block\n",
			[]string{"spec.rules[1].acton: unknown field"}},
		{"custom unknown key message", strictyaml.Decoder{UnknownKey: "unknown key"}, "spec: {bogus: 1}\n", []string{"spec.bogus: unknown key"}},
		{"unexported and skipped fields are unknown", strictyaml.Decoder{}, "spec: {hidden: x}\nSkip: y\n",
			[]string{"spec.hidden: unknown field", "Skip: unknown field"}},
		{"every problem at once", strictyaml.Decoder{}, "name: [x]\nspec: {mode: {}, tools: t, extra: 1}\n",
			[]string{"name: must be a string, got a list", "spec.mode: must be a string, got a mapping", `spec.tools: must be a list, got str "t"`, "spec.extra: unknown field"}},
		{"duplicate key", strictyaml.Decoder{}, "spec:\n  mode: a\n  mode: b\n", []string{"spec.mode: duplicate key"}},
		{"duplicate key in a map", strictyaml.Decoder{}, "spec: {rules: [{args: {p: a, p: b}}]}\n", []string{"spec.rules[0].args.p: duplicate key"}},
		{"merge key", strictyaml.Decoder{}, "base: &b {mode: m}\nspec:\n  <<: *b\n", []string{"base: unknown field", `spec["<<"]: merge keys (<<) are not supported`}},
		{"non-string key", strictyaml.Decoder{}, "spec: {rules: [{args: {[a]: b}}]}\n", []string{"spec.rules[0].args: mapping key must be a string, got a list"}},
		{"odd key is quoted", strictyaml.Decoder{}, "spec: {'a b': 1, rules: [{args: {'c.d': [x]}}]}\n",
			[]string{`spec["a b"]: unknown field`, `spec.rules[0].args["c.d"]: must be a string, got a list`}},
		{"wrong type: bool", strictyaml.Decoder{}, "spec: {rules: [{strict: 'yes'}]}\n", []string{`spec.rules[0].strict: must be true or false, got str "yes"`}},
		{"wrong type: int", strictyaml.Decoder{}, "spec: {rules: [{limit: 1.5}]}\n", []string{`spec.rules[0].limit: must be an integer, got float "1.5"`}},
		{"int out of range", strictyaml.Decoder{}, "spec: {rules: [{limit: !!int 99999999999999999999}]}\n", []string{`spec.rules[0].limit: must be an integer, got int "99999999999999999999"`}},
		{"wrong type: struct", strictyaml.Decoder{}, "spec: 3\n", []string{`spec: must be a mapping, got int "3"`}},
		{"root not a mapping", strictyaml.Decoder{}, "- a\n", []string{"must be a mapping, got a list"}},
		{"generic values", strictyaml.Decoder{}, "spec: {params: {a: [1, 2.5, true, null, x]}, any: {b: 1}}\n", nil},
		{"generic not JSON", strictyaml.Decoder{}, "spec: {params: {a: .nan}}\n", []string{`spec.params.a: number ".nan" cannot be represented in JSON`}},
		{"alias within budget", strictyaml.Decoder{}, "x: &t [a]\n", []string{"x: unknown field"}},
		{"alias bomb", strictyaml.Decoder{}, aliasBomb(),
			[]string{"a0: unknown field", "a1: unknown field", "a2: unknown field", "a3: unknown field", "a4: unknown field",
				"a5: unknown field", "a6: unknown field", "a7: unknown field", "a8: unknown field",
				"spec.params.bomb[*]: document too large: more than 100000 nodes (after alias expansion)"}},
		{"alias bomb, small budget", strictyaml.Decoder{MaxNodes: 50}, "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nspec: {params: {p: [*b, *b]}}\n",
			[]string{"a: unknown field", "b: unknown field", "spec.params.p[*]: document too large: more than 50 nodes (after alias expansion)"}},
		{"deep nesting", strictyaml.Decoder{}, "spec: {any: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n",
			[]string{"spec.any" + strings.Repeat("[0]", 63) + ": nested deeper than 64 levels"}},
		{"deep nesting, small cap", strictyaml.Decoder{MaxDepth: 3}, "spec: {rules: [{args: {a: b}}]}\n",
			[]string{"spec.rules[0].args: nested deeper than 3 levels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dec
			_, got := decode(t, &d, tt.src)
			if !match(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// match reports whether got are the problems want, where "[*]" in a want
// line stands for one or more list indexes.
func match(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i, w := range want {
		before, after, wild := strings.Cut(w, "[*]")
		if !wild {
			if got[i] != w {
				return false
			}
			continue
		}
		idx, ok := strings.CutPrefix(got[i], before)
		idx, ok2 := strings.CutSuffix(idx, after)
		if !ok || !ok2 || idx == "" || strings.Trim(idx, "[]0123456789") != "" {
			return false
		}
	}
	return true
}

// An alias of a mapping full of bad keys must not multiply problems
// beyond the node budget: keys count as nodes.
func TestDecodeAliasedBadKeysBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a {")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("k" + strconv.Itoa(i) + ": 1")
	}
	b.WriteString("}\nspec: {rules: [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*a")
	}
	b.WriteString("]}\n")
	d := strictyaml.Decoder{MaxNodes: 5000}
	_, got := decode(t, &d, b.String())
	if len(got) > d.MaxNodes+1 {
		t.Fatalf("%d problems, budget %d nodes", len(got), d.MaxNodes)
	}
	if last := got[len(got)-1]; !strings.HasSuffix(last, "document too large: more than 5000 nodes (after alias expansion)") {
		t.Errorf("last problem = %q", last)
	}
}

func TestDecodeValues(t *testing.T) {
	var d strictyaml.Decoder
	v, probs := decode(t, &d, "name: n\nspec:\n  tools: &t [a, b]\n  rules:\n    - {tool: x, strict: false, limit: 1_000, args: {p: '^/tmp/'}}\n  params: {n: 3, f: 0.5, l: *t, m: {k: null}}\n")
	if probs != nil {
		t.Fatalf("problems: %v", probs)
	}
	r := v.Spec.Rules[0]
	if v.Name != "n" || r.Tool != "x" || r.Strict == nil || *r.Strict || r.Limit != 1000 || r.Args["p"] != "^/tmp/" {
		t.Errorf("decoded %+v", v)
	}
	p := v.Spec.Params
	if p["n"] != int64(3) || p["f"] != 0.5 || len(p["l"].([]any)) != 2 || p["m"].(map[string]any)["k"] != nil {
		t.Errorf("params = %#v", p)
	}
}

func TestDecodeKeepsDefaults(t *testing.T) {
	strict := true
	v := doc{Name: "default", Spec: spec{Mode: "m", Rules: []rule{{Strict: &strict}}, hidden: "kept"}}
	root, err := strictyaml.Parse([]byte("spec: {tools: [a]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var d strictyaml.Decoder
	d.Decode(root, &v)
	if v.Name != "default" || v.Spec.Mode != "m" || v.Spec.hidden != "kept" || len(v.Spec.Rules) != 1 || len(v.Spec.Tools) != 1 {
		t.Errorf("defaults lost: %+v", v)
	}
}

func TestGeneric(t *testing.T) {
	root, err := strictyaml.Parse([]byte("a: [1, 18446744073709551615, x]\nb: {c: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var d strictyaml.Decoder
	g, ok := d.Generic(root)
	m, _ := g.(map[string]any)
	if !ok || m["a"].([]any)[1] != uint64(18446744073709551615) || m["b"].(map[string]any)["c"] != true {
		t.Errorf("Generic = %#v, %v (%v)", g, ok, d.Problems())
	}
	_, ok = d.Generic(mustParse(t, "a: !!int 999999999999999999999999\n"))
	if ok || len(d.Problems()) != 1 || d.Problems()[0].Path != "a" {
		t.Errorf("out-of-range integer: ok %v, problems %v", ok, d.Problems())
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantNil bool
		wantErr string // "", "syntax" or "multiple"
	}{
		{"document", "a: 1\n", false, ""},
		{"empty", "", true, ""},
		{"comments only", "# x\n", true, ""},
		{"explicit empty document", "---\n", false, ""}, // a null root
		{"two documents", "a: 1\n---\nb: 2\n", true, "multiple"},
		{"syntax error", "a: [\n", true, "syntax"},
		{"tab indentation", "a:\n\tb: c\n", true, "syntax"},
		{"undefined alias", "a: *nope\n", true, "syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := strictyaml.Parse([]byte(tt.src))
			multiple := errors.Is(err, strictyaml.ErrMultipleDocuments)
			switch {
			case tt.wantErr == "" && err != nil,
				tt.wantErr == "syntax" && (err == nil || multiple),
				tt.wantErr == "multiple" && !multiple:
				t.Fatalf("Parse = %v, want %s error", err, tt.wantErr)
			}
			if (root == nil) != tt.wantNil {
				t.Errorf("root = %v", root)
			}
		})
	}
}

func mustParse(t *testing.T, src string) *yamlNode {
	t.Helper()
	root, err := strictyaml.Parse([]byte(src))
	if err != nil || root == nil {
		t.Fatalf("Parse(%q) = %v, %v", src, root, err)
	}
	return root
}

// The problems of a Decoder are a keypath.Problems, ready for Err.
var _ keypath.Problems = (&strictyaml.Decoder{}).Problems()
