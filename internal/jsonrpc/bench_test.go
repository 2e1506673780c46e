package jsonrpc

import "testing"

func BenchmarkParseToolCall(b *testing.B) {
	line := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/home/user/project/README.md","encoding":"utf-8"}}}`)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(line)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.ToolCall(); err != nil {
			b.Fatal(err)
		}
	}
}
