package integration

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	sdkjsonrpc "github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/internal/audit"
)

func checkAudit(t *testing.T, path string) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	rep, err := audit.Verify(file)
	if err != nil {
		t.Fatalf("audit log does not verify: %v", err)
	}
	if rep.Records == 0 {
		t.Fatal("audit log is empty")
	}
	if _, err := file.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	type key struct {
		tool, decision string
		code           int
	}
	seen := map[key]bool{}
	dlpCounted := false
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), fakeAWSKey) {
			t.Errorf("audit record holds the secret: %s", sc.Text())
		}
		var rec audit.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		seen[key{rec.Tool, string(rec.Decision), int(rec.Code)}] = true
		if rec.Direction == audit.Downstream && rec.DLP["aws_access_key"] > 0 {
			dlpCounted = true
		}
		if rec.Tool != "" && rec.Direction == audit.Upstream && rec.ArgsSHA256 == "" {
			t.Errorf("tools/call record without args_sha256: %s", sc.Text())
		}
	}
	for _, want := range []key{
		{"read_text_file", "ALLOW", 0},
		{"write_file", "BLOCK", -32007},
		{"move_file", "BLOCK", -32001},
		{"create_directory", "ALLOW", 0},
		{"create_directory", "BLOCK", -32004},
	} {
		if !seen[want] {
			t.Errorf("audit log lacks a record %+v", want)
		}
	}
	if !dlpCounted {
		t.Error("audit log lacks the downstream DLP redaction count")
	}
}

// checkCode checks that a call failed with the JSON-RPC error code want.
// The Go SDK reads -32004 (AIP "User denied") as its own "server is
// closing" code and reports it as mcp.ErrConnectionClosed with the message
// only, so that one is matched by message.
func checkCode(t *testing.T, res *mcp.CallToolResult, err error, want int64) {
	t.Helper()
	if want == -32004 && errors.Is(err, mcp.ErrConnectionClosed) && strings.Contains(err.Error(), "User denied") {
		return
	}
	var werr *sdkjsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != want {
		t.Fatalf("got result %+v, err %v; want JSON-RPC error %d", res, err, want)
	}
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
