package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must return a document or a
// clean error, never panic, and any document it returns must compile and
// evaluate.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*", "*.yaml"))
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "policies", "*.yaml"))
	for _, file := range append(files, examples...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(referencePolicy))
	f.Add([]byte(evalPolicy))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrTooLarge", err)
			}
			return
		}
		if len(doc.Hash()) != 64 {
			t.Fatalf("hash %q", doc.Hash())
		}
		_ = Lint(doc)
		p, err := Compile(doc, Options{HomeDir: "/home/agent", WorkDir: "/nonexistent"})
		if err != nil {
			return // e.g. a protected path that is not a path
		}
		p.EvaluateToolCall(context.Background(), "read_file", map[string]any{"path": "/tmp/x"})
		p.CheckMethod("tools/call")
	})
}
