package strictyaml_test

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aip-project/aip/internal/strictyaml"
)

type yamlNode = yaml.Node

// FuzzDecode feeds arbitrary bytes to Parse and a small-budget Decoder:
// they must never panic, every problem must have a message, and the node
// budget must bound the problems however the input nests or aliases.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"name: n\nspec: {mode: m, tools: [a], rules: [{tool: t, args: {p: x}, strict: true, limit: 3}]}\n",
		"spec: {params: {a: [1, 2.5, true, null]}, any: &x {b: *x}}\n",
		"a: &a [x, x]\nb: &b [*a, *a]\nspec: {params: {c: [*b, *b]}}\n",
		"base: &b {mode: m}\nspec: {<<: *b, mode: n, mode: o}\n",
		"- a\n---\n- b\n",
		"spec: {any: [[[[[[[[[[]]]]]]]]]]}\n",
		"? [a]\n: b\n",
		"a: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	// Good and hostile policies (alias bomb, corrupt, wrong types).
	files, _ := filepath.Glob(filepath.Join("..", "..", "enforcer", "policy", "testdata", "policies", "*", "*.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := strictyaml.Parse(data)
		if err != nil || root == nil {
			return
		}
		d := strictyaml.Decoder{MaxNodes: 500, MaxDepth: 16}
		var v doc
		d.Decode(root, &v)
		d.Generic(root)
		for _, p := range d.Problems() {
			if p.Message == "" {
				t.Fatalf("problem without a message at %q", p.Path)
			}
		}
		// Every problem is found at a node counted against the budget,
		// and the first node over it ends the decoding: aliases cannot
		// multiply problems beyond it.
		if n := len(d.Problems()); n > d.MaxNodes+1 {
			t.Fatalf("%d problems, budget %d nodes", n, d.MaxNodes)
		}
	})
}
