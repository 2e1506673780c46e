package config

import (
	"errors"

	"github.com/aip-project/aip/internal/keypath"
	"github.com/aip-project/aip/internal/strictyaml"
)

// Limits that keep hostile YAML cheap to reject.
const (
	// MaxSize bounds a configuration file.
	MaxSize  = 1 << 20
	maxNodes = 10_000 // nodes visited, counting every alias expansion
	maxDepth = 32
)

// decodeFile strictly decodes data into f (already holding defaults). An
// empty file leaves f as it is.
func decodeFile(data []byte, f *File) keypath.Problems {
	var ps keypath.Problems
	if len(data) > MaxSize {
		ps.Add("", "larger than %d bytes", MaxSize)
		return ps
	}
	root, err := strictyaml.Parse(data)
	switch {
	case errors.Is(err, strictyaml.ErrMultipleDocuments):
		ps.Add("", "%v", err)
		return ps
	case err != nil:
		ps.Add("", "not valid YAML: %v", err)
		return ps
	case root == nil:
		return nil
	}
	d := strictyaml.Decoder{MaxNodes: maxNodes, MaxDepth: maxDepth, UnknownKey: "unknown key"}
	d.Decode(root, f)
	return d.Problems()
}
