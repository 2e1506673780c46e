package aipcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/cli"
)

func TestAuditVerify(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	w, err := audit.Open(good, audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := w.Append(audit.Record{Decision: audit.Allow, Method: "tools/call"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lines := strings.SplitAfter(string(content), "\n")
	tampered := write("tampered.jsonl", strings.Replace(string(content), `"ALLOW"`, `"BLOCK"`, 1))
	deleted := write("deleted.jsonl", lines[0]+lines[2])
	truncated := write("truncated.jsonl", lines[0]+lines[1]+lines[2][:30])

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"clean", []string{good}, 0, "OK " + good + ": 3 record(s), last seq 3"},
		{"tampered", []string{tampered}, 1, "line 1 (seq 1): altered"},
		{"deleted", []string{deleted}, 1, "line 2 (seq 3): deleted"},
		{"truncated tail", []string{truncated}, 0, "verifies up to seq 2"},
		{"missing file", []string{filepath.Join(dir, "nope")}, 1, ""},
		{"no file", nil, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			env := cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
			code := cli.Main(context.Background(), Root(), env, append([]string{"audit", "verify"}, tt.args...))
			if code != tt.wantCode || !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout.String(), stderr.String(), tt.wantCode, tt.wantOut)
			}
		})
	}
}
