package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/aip-project/aip/internal/keypath"
	"github.com/aip-project/aip/internal/strictyaml"
)

// MaxSize is the largest policy document accepted, in bytes.
const MaxSize = 1 << 20

// Parse decodes and validates an AgentPolicy document strictly. Unknown
// keys, wrong types and invalid values are reported together, each with its
// key path, in a *ValidationError (errors.Is(err, ErrInvalid)).
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxSize)
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	var d strictyaml.Decoder
	doc := &Document{}
	if root.Kind != yaml.MappingNode {
		var ps keypath.Problems
		ps.Add("", "policy must be a mapping, got %s", strictyaml.Describe(root))
		return nil, invalid(ps)
	}
	d.Decode(root, doc)
	ps := d.Problems()
	if len(ps) == 0 {
		ps = append(ps, validate(doc)...)
	}
	if err := invalid(ps); err != nil {
		return nil, err
	}
	generic, ok := d.Generic(root)
	if !ok {
		return nil, invalid(d.Problems())
	}
	doc.canonical, err = canonicalPolicy(generic)
	if err != nil {
		return nil, fmt.Errorf("canonicalize policy: %w", err)
	}
	sum := sha256.Sum256(doc.canonical)
	doc.hash = hex.EncodeToString(sum[:])
	return doc, nil
}

// ReadFile reads and parses the policy at path, refusing files over MaxSize.
func ReadFile(path string) (*Document, error) {
	data, err := readLimited(path, MaxSize)
	if err != nil {
		return nil, err
	}
	doc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return doc, nil
}

// Load reads, parses and compiles the policy at path. opts.PolicyPath
// defaults to path, so the file protects itself.
func Load(path string, opts Options) (*Policy, error) {
	doc, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if opts.PolicyPath == "" {
		opts.PolicyPath = path
	}
	p, err := Compile(doc, opts)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("policy %s: %w: limit %d bytes", path, ErrTooLarge, limit)
	}
	return data, nil
}

// parseYAML parses exactly one YAML document into a node tree. Aliases are
// not expanded here; the decoder expands them against a node budget.
func parseYAML(data []byte) (*yaml.Node, error) {
	root, err := strictyaml.Parse(data)
	switch {
	case errors.Is(err, strictyaml.ErrMultipleDocuments):
		return nil, invalid(keypath.Problems{{Message: err.Error()}})
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	case root == nil:
		return nil, invalid(keypath.Problems{{Message: "empty document"}})
	}
	return root, nil
}
