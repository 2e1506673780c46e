package policy

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep hostile YAML (alias bombs, deep nesting) cheap to reject.
const (
	maxNodes = 100_000 // nodes visited, counting every alias expansion
	maxDepth = 64
)

// decoder is a strict, schema-driven YAML decoder: it fills Go values from a
// yaml.Node tree and records every problem with its key path, instead of
// stopping at the first one as yaml.v3's KnownFields does.
type decoder struct {
	problems []Problem
	nodes    int
}

func (d *decoder) addf(path, format string, a ...any) {
	d.problems = append(d.problems, Problem{Path: path, Message: fmt.Sprintf(format, a...)})
}

// enter counts a node against the budget; false means stop descending.
func (d *decoder) enter(path string, depth int) bool {
	d.nodes++
	if d.nodes == maxNodes+1 {
		d.addf(path, "document too large: more than %d nodes (after alias expansion)", maxNodes)
	}
	if d.nodes > maxNodes {
		return false
	}
	if depth > maxDepth {
		d.addf(path, "nested deeper than %d levels", maxDepth)
		return false
	}
	return true
}

// decode fills v from n. Null leaves v at its zero value.
func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value, depth int) {
	if !d.enter(path, depth) {
		return
	}
	if n.Kind == yaml.AliasNode {
		d.decode(path, n.Alias, v, depth+1)
		return
	}
	if isNull(n) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(path, n, p.Elem(), depth)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(path, n, v, depth)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.addf(path, "must be a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(path+"["+strconv.Itoa(i)+"]", c, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		d.eachPair(path, n, depth, func(key, kpath string, val *yaml.Node) {
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(kpath, val, e, depth+1)
			m.SetMapIndex(reflect.ValueOf(key), e)
		})
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.addf(path, "must be a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			d.addf(path, "must be true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.addf(path, "must be an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Interface:
		if g, ok := d.generic(path, n, depth); ok {
			if g != nil {
				v.Set(reflect.ValueOf(g))
			}
		}
	default:
		d.addf(path, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) decodeStruct(path string, n *yaml.Node, v reflect.Value, depth int) {
	fields := yamlFields(v.Type())
	d.eachPair(path, n, depth, func(key, kpath string, val *yaml.Node) {
		i, ok := fields[key]
		if !ok {
			d.addf(kpath, "unknown field")
			return
		}
		d.decode(kpath, val, v.Field(i), depth+1)
	})
}

// eachPair walks a mapping with string keys, rejecting duplicates and merge
// keys, and calls fn with each key, its path and its value.
func (d *decoder) eachPair(path string, n *yaml.Node, depth int, fn func(key, kpath string, val *yaml.Node)) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		d.addf(path, "must be a mapping, got %s", describe(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.addf(path, "mapping key must be a string, got %s", describe(k))
			continue
		}
		kpath := joinKey(path, k.Value)
		if k.Tag == "!!merge" {
			d.addf(kpath, "merge keys (<<) are not supported")
			continue
		}
		if seen[k.Value] {
			d.addf(kpath, "duplicate key")
			continue
		}
		seen[k.Value] = true
		fn(k.Value, kpath, val)
	}
}

// generic converts n to JSON-compatible data: map[string]any, []any,
// string, bool, int64, uint64, float64 or nil.
func (d *decoder) generic(path string, n *yaml.Node, depth int) (any, bool) {
	if !d.enter(path, depth) {
		return nil, false
	}
	switch n.Kind {
	case yaml.AliasNode:
		return d.generic(path, n.Alias, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, true
		}
		return d.generic(path, n.Content[0], depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			g, ok := d.generic(path+"["+strconv.Itoa(i)+"]", c, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, g)
		}
		return out, true
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		ok := true
		d.eachPair(path, n, depth, func(key, kpath string, val *yaml.Node) {
			g, gok := d.generic(kpath, val, depth+1)
			ok = ok && gok
			out[key] = g
		})
		return out, ok
	case yaml.ScalarNode:
		return d.scalar(path, n)
	}
	d.addf(path, "unsupported YAML node")
	return nil, false
}

func (d *decoder) scalar(path string, n *yaml.Node) (any, bool) {
	switch n.Tag {
	case "!!null":
		return nil, true
	case "!!bool":
		b, _ := parseBool(n)
		return b, true
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i, true
		}
		if u, err := strconv.ParseUint(s, 0, 64); err == nil {
			return u, true
		}
		d.addf(path, "integer %q out of range", n.Value)
		return nil, false
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.addf(path, "number %q cannot be represented in JSON", n.Value)
			return nil, false
		}
		return f, true
	}
	return n.Value, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
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

func describe(n *yaml.Node) string {
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

// joinKey appends a mapping key to a key path, quoting odd keys.
func joinKey(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if r != '_' && r != '-' && r != '/' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
