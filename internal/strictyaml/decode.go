package strictyaml

import (
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aip-project/aip/internal/keypath"
)

// Default limits, used where a Decoder's field is zero.
const (
	DefaultMaxNodes = 100_000
	DefaultMaxDepth = 64
)

// Decoder fills Go values from a yaml.Node tree, recording every problem
// with its key path. The zero value is ready to use; one Decoder's node
// budget is shared by all its Decode and Generic calls.
type Decoder struct {
	// MaxNodes caps the nodes visited, counting every alias expansion;
	// zero means DefaultMaxNodes.
	MaxNodes int
	// MaxDepth caps nesting; zero means DefaultMaxDepth.
	MaxDepth int
	// UnknownKey is the message for a key a struct has no field for;
	// empty means "unknown field".
	UnknownKey string

	problems keypath.Problems
	nodes    int
}

// Problems returns what Decode and Generic found so far.
func (d *Decoder) Problems() keypath.Problems { return d.problems }

// Decode fills the value v points to from n, reporting paths from the root.
// A null leaves a value as it was; a struct keeps the fields n does not name,
// so v may hold defaults.
func (d *Decoder) Decode(n *yaml.Node, v any) {
	d.decode("", n, reflect.ValueOf(v).Elem(), 0)
}

// enter counts a node against the budget and checks its depth; false means
// stop descending.
func (d *Decoder) enter(path string, depth int) bool {
	if !d.count(path) {
		return false
	}
	maxDepth := d.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if depth > maxDepth {
		d.problems.Add(path, "nested deeper than %d levels", maxDepth)
		return false
	}
	return true
}

// count counts a node against the budget, reporting the first node over
// it; false means the budget is spent. Mapping keys count too, so that
// aliasing a mapping full of bad keys cannot multiply problems for free.
func (d *Decoder) count(path string) bool {
	maxNodes := d.MaxNodes
	if maxNodes <= 0 {
		maxNodes = DefaultMaxNodes
	}
	d.nodes++
	if d.nodes == maxNodes+1 {
		d.problems.Add(path, "document too large: more than %d nodes (after alias expansion)", maxNodes)
	}
	return d.nodes <= maxNodes
}

func (d *Decoder) decode(path string, n *yaml.Node, v reflect.Value, depth int) {
	if !d.enter(path, depth) {
		return
	}
	if n.Kind == yaml.AliasNode {
		d.decode(path, n.Alias, v, depth+1)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			p.Elem().Set(v.Elem())
		}
		d.decode(path, n, p.Elem(), depth)
		v.Set(p)
	case reflect.Struct:
		fields := yamlFields(v.Type())
		d.eachPair(path, n, func(key, kpath string, val *yaml.Node) {
			i, ok := fields[key]
			if !ok {
				d.problems.Add(kpath, "%s", d.unknownKey())
				return
			}
			d.decode(kpath, val, v.Field(i), depth+1)
		})
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		d.eachPair(path, n, func(key, kpath string, val *yaml.Node) {
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(kpath, val, e, depth+1)
			m.SetMapIndex(reflect.ValueOf(key), e)
		})
		v.Set(m)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.problems.Add(path, "must be a list, got %s", Describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(keypath.Index(path, i), c, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.problems.Add(path, "must be a string, got %s", Describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			d.problems.Add(path, "must be true or false, got %s", Describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		i, ok := parseInt(n)
		if !ok {
			d.problems.Add(path, "must be an integer, got %s", Describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Interface:
		if g, ok := d.generic(path, n, depth); ok && g != nil {
			v.Set(reflect.ValueOf(g))
		}
	default:
		d.problems.Add(path, "unsupported field type %s", v.Type())
	}
}

func (d *Decoder) unknownKey() string {
	if d.UnknownKey == "" {
		return "unknown field"
	}
	return d.UnknownKey
}

// eachPair walks a mapping with string keys, rejecting duplicate and merge
// keys, and calls fn with each key, its path and its value.
func (d *Decoder) eachPair(path string, n *yaml.Node, fn func(key, kpath string, val *yaml.Node)) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		d.problems.Add(path, "must be a mapping, got %s", Describe(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			if !d.count(path) {
				return
			}
			d.problems.Add(path, "mapping key must be a string, got %s", Describe(k))
			continue
		}
		kpath := keypath.Join(path, k.Value)
		if !d.count(kpath) {
			return
		}
		switch {
		case k.Tag == "!!merge":
			d.problems.Add(kpath, "merge keys (<<) are not supported")
		case seen[k.Value]:
			d.problems.Add(kpath, "duplicate key")
		default:
			seen[k.Value] = true
			fn(k.Value, kpath, val)
		}
	}
}

// yamlFields maps yaml tag names to field indexes of struct type t.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = i
	}
	return m
}

func parseBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, false
	}
	return b, true
}

func parseInt(n *yaml.Node) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, false
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	return i, err == nil
}

// Describe names a node's kind for a message: "a mapping", "a list",
// `str "abc"`, `int "5"`. Scalars are cut at 40 bytes.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return strings.TrimPrefix(n.Tag, "!!") + " " + strconv.Quote(truncate(n.Value, 40))
	}
	return "an unexpected node"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
