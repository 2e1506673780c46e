package stdio

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// echoEnv makes the test binary run as echoServer instead of the tests.
const echoEnv = "AIP_TEST_ECHO_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(echoEnv) == "1" {
		os.Exit(echoServer(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// echoCommand runs this test binary as the echo MCP server.
func echoCommand() ([]string, []string) {
	return []string{os.Args[0]}, append(os.Environ(), echoEnv+"=1")
}

// echoServer is a tiny MCP-shaped server: tools/call echoes its arguments
// as text, tools/list lists two tools, "count" answers the number of lines
// it has read, "exit" exits with params.code. SIGINT exits 42.
func echoServer(in io.Reader, out io.Writer) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT)
	go func() {
		<-sig
		os.Exit(42)
	}()
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 16<<20)
	w := bufio.NewWriter(out)
	lines := 0
	for sc.Scan() {
		lines++
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Code      int             `json:"code"`
				Arguments json.RawMessage `json:"arguments"`
			} `json:"params"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil || req.ID == nil {
			continue
		}
		var result any
		switch req.Method {
		case "exit":
			w.Flush()
			return req.Params.Code
		case "count":
			result = map[string]int{"lines": lines}
		case "tools/list":
			result = map[string]any{"tools": []map[string]any{
				{"name": "echo", "inputSchema": map[string]any{"type": "object"}},
				{"name": "exec", "inputSchema": map[string]any{"type": "object"}},
			}}
		default:
			result = map[string]any{"content": []map[string]string{{"type": "text", "text": string(req.Params.Arguments)}}}
		}
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
		_, _ = w.Write(append(b, '\n'))
		w.Flush()
	}
	return 0
}
