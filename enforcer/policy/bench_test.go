package policy

import (
	"context"
	"testing"
)

func BenchmarkEvaluateToolsCall(b *testing.B) {
	p := mustCompile(b, evalPolicy, Options{})
	ctx := context.Background()
	cases := []struct {
		name string
		tool string
		args map[string]any
	}{
		{"allowlisted", "read_file", map[string]any{"path": "/tmp/project/src/main.go"}},
		{"allow_args", "fetch", map[string]any{"url": "https://example.com/page"}},
		{"denied", "exec_command", map[string]any{"cmd": "id"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.EvaluateToolCall(ctx, c.tool, c.args)
			}
		})
	}
}
