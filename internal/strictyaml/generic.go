package strictyaml

import (
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aip-project/aip/internal/keypath"
)

// Generic converts n to JSON-compatible data: map[string]any, []any,
// string, bool, int64, uint64, float64 or nil, under the same key rules
// and node budget as Decode. ok is false when n cannot be converted; the
// reasons are among Problems.
func (d *Decoder) Generic(n *yaml.Node) (v any, ok bool) {
	return d.generic("", n, 0)
}

func (d *Decoder) generic(path string, n *yaml.Node, depth int) (any, bool) {
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
			g, ok := d.generic(keypath.Index(path, i), c, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, g)
		}
		return out, true
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		ok := true
		d.eachPair(path, n, func(key, kpath string, val *yaml.Node) {
			g, gok := d.generic(kpath, val, depth+1)
			ok = ok && gok
			out[key] = g
		})
		return out, ok
	case yaml.ScalarNode:
		return d.scalar(path, n)
	}
	d.problems.Add(path, "unsupported YAML node")
	return nil, false
}

func (d *Decoder) scalar(path string, n *yaml.Node) (any, bool) {
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
		d.problems.Add(path, "integer %q out of range", n.Value)
		return nil, false
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.problems.Add(path, "number %q cannot be represented in JSON", n.Value)
			return nil, false
		}
		return f, true
	}
	return n.Value, true
}
