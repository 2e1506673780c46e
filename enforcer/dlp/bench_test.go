package dlp

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchResult is a typical tools/call result: a file read back as text,
// with newlines (so escapes), and a small structuredContent.
func benchResult(secret string) json.RawMessage {
	line := "func main() { fmt.Println(\\\"hello, world\\\") } // some source text\\n"
	text := strings.Repeat(line, 40) + secret + strings.Repeat(line, 20)
	return json.RawMessage(`{"content":[{"type":"text","text":"` + text + `"}],` +
		`"structuredContent":{"path":"/home/user/src/main.go","size":4096,"lines":[1,2,3]},"isError":false}`)
}

func BenchmarkRedactResponse(b *testing.B) {
	patterns := []Pattern{
		{Name: "aws_access_key"}, {Name: "github_token"}, {Name: "private_key"}, {Name: "jwt"},
		{Name: "password", Regex: `(?i)password\s*[:=]\s*\S+`},
	}
	cases := []struct {
		name   string
		detect bool
		result json.RawMessage
	}{
		{"no-match", false, benchResult("")},
		{"match", false, benchResult("aws key " + awsKey + " found")},
		{"no-match-detect-encoding", true, benchResult("")},
		{"match-detect-encoding", true, benchResult("aws key " + awsKey + " found")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s := mustCompile(b, Config{Patterns: patterns, DetectEncoding: c.detect})
			b.SetBytes(int64(len(c.result)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.RedactResponse(c.result); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
