package strictyaml

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// ErrMultipleDocuments is returned by Parse for a stream of more than one
// YAML document.
var ErrMultipleDocuments = errors.New("more than one YAML document")

// errMalformed stands in for a panic of the YAML parser.
var errMalformed = errors.New("malformed YAML")

// Parse parses data, which must hold at most one YAML document, into a node
// tree and returns the document's root node, or nil when data holds no
// document (empty, or only comments). Aliases are not expanded here; a
// Decoder expands them against its node budget. Any error other than
// ErrMultipleDocuments is a YAML syntax error.
func Parse(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, errMalformed
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, ErrMultipleDocuments
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil
	}
	return doc.Content[0], nil
}
