package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"gopkg.in/yaml.v3"
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
	var d decoder
	doc := &Document{}
	if root.Kind != yaml.MappingNode {
		d.addf("", "policy must be a mapping, got %s", describe(root))
		return nil, &ValidationError{Problems: d.problems}
	}
	d.decode("", root, reflect.ValueOf(doc).Elem(), 0)
	if len(d.problems) == 0 {
		d.problems = append(d.problems, validate(doc)...)
	}
	if len(d.problems) > 0 {
		return nil, &ValidationError{Problems: d.problems}
	}
	generic, ok := d.generic("", root, 0)
	if !ok {
		return nil, &ValidationError{Problems: d.problems}
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
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("%w: malformed YAML", ErrInvalid)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ValidationError{Problems: []Problem{{Message: "empty document"}}}
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &ValidationError{Problems: []Problem{{Message: "more than one YAML document"}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &ValidationError{Problems: []Problem{{Message: "empty document"}}}
	}
	return doc.Content[0], nil
}
