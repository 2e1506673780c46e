package stdio

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/aip-project/aip/internal/audit"
)

// echoEnv makes the test binary run as echoServer instead of the tests.
const echoEnv = "AIP_TEST_ECHO_SERVER"

// echoAuditEnv names an audit log the echo server checks for the record
// of each request it receives (see auditHas).
const echoAuditEnv = "AIP_TEST_ECHO_AUDIT_FILE"

// echoLogEnv makes the echo server write the id of each request it
// receives to stderr, one a line.
const echoLogEnv = "AIP_TEST_ECHO_LOG"

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
		if os.Getenv(echoLogEnv) == "1" {
			fmt.Fprintf(os.Stderr, "received %s\n", req.ID)
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
			res := map[string]any{"content": []map[string]string{{"type": "text", "text": string(req.Params.Arguments)}}}
			if path := os.Getenv(echoAuditEnv); path != "" {
				res["audited"] = auditHas(path, req.ID)
			}
			result = res
		}
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
		_, _ = w.Write(append(b, '\n'))
		w.Flush()
	}
	return 0
}

// auditHas reports whether the audit log at path holds, as it is on the
// file system now, the upstream record of the request with id.
func auditHas(path string, id json.RawMessage) bool {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the test's audit log
	if err != nil {
		return false
	}
	for line := range bytes.Lines(b) {
		var rec audit.Record
		if json.Unmarshal(line, &rec) == nil && rec.Direction == audit.Upstream && rec.RequestID == string(id) {
			return true
		}
	}
	return false
}
