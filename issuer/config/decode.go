package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep hostile YAML cheap to reject.
const (
	// MaxSize bounds a configuration file.
	MaxSize   = 1 << 20
	maxNodes  = 10_000
	maxDepth  = 32
	rootPath  = ""
	nullTag   = "!!null"
	mergeTag  = "!!merge"
	stringTag = "!!str"
)

// decoder fills a File from a yaml.Node tree, recording every problem with
// its key path instead of stopping at the first (as KnownFields does).
type decoder struct {
	probs problems
	nodes int
}

// decodeFile strictly decodes data into f (already holding defaults).
func decodeFile(data []byte, f *File) problems {
	d := &decoder{}
	if len(data) > MaxSize {
		d.probs.add(rootPath, fmt.Sprintf("larger than %d bytes", MaxSize))
		return d.probs
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.probs.add(rootPath, "not valid YAML: "+err.Error())
		return d.probs
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file: all defaults
	}
	d.decode(rootPath, doc.Content[0], reflect.ValueOf(f).Elem(), 0)
	return d.probs
}

func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value, depth int) {
	d.nodes++
	if d.nodes > maxNodes || depth > maxDepth {
		if d.nodes == maxNodes+1 || depth == maxDepth+1 {
			d.probs.add(path, "document too large or too deeply nested")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		d.decode(path, n.Alias, v, depth+1)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == nullTag {
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
				d.probs.add(kpath, "unknown key")
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
			d.probs.add(path, "must be a list, got "+describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(path+"["+strconv.Itoa(i)+"]", c, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.probs.add(path, "must be a string, got "+describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.probs.add(path, "must be true or false, got "+describe(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.probs.add(path, "must be an integer, got "+describe(n))
			return
		}
		v.SetInt(int64(i))
	default:
		d.probs.add(path, "unsupported field type "+v.Type().String())
	}
}

// eachPair walks a mapping, rejecting non-string, duplicate and merge keys.
func (d *decoder) eachPair(path string, n *yaml.Node, fn func(key, kpath string, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.probs.add(path, "must be a mapping, got "+describe(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.probs.add(path, "keys must be strings, got "+describe(k))
			continue
		}
		kpath := joinKey(path, k.Value)
		switch {
		case k.Tag == mergeTag:
			d.probs.add(kpath, "merge keys (<<) are not supported")
		case seen[k.Value]:
			d.probs.add(kpath, "duplicate key")
		default:
			seen[k.Value] = true
			fn(k.Value, kpath, val)
		}
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == stringTag {
			return fmt.Sprintf("string %q", truncate(n.Value, 40))
		}
		return fmt.Sprintf("%s %s", strings.TrimPrefix(n.Tag, "!!"), truncate(n.Value, 40))
	default:
		return "an alias"
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// yamlFields maps yaml tag names to field indexes of struct type t.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

// joinKey appends key to path; keys that are not plain identifiers (e.g.
// audience URLs under policies) are quoted.
func joinKey(path, key string) string {
	plain := key != ""
	for _, c := range key {
		if c != '_' && c != '-' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	default:
		return path + "." + key
	}
}
