package agent_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/identity/agent"
)

type readArgs struct {
	Path string `json:"path"`
}

// filesServer is an MCP server over Streamable HTTP with a read_file tool.
func filesServer() http.Handler {
	server := mcp.NewServer(&mcp.Implementation{Name: "files", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "read_file", Description: "reads a file"},
		func(_ context.Context, _ *mcp.CallToolRequest, in readArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "contents of " + in.Path}}}, nil, nil
		})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
}

// callReadFile opens an MCP session to endpoint with the official MCP Go
// SDK client over tr, calls read_file and closes the session.
func callReadFile(t *testing.T, tr *agent.Transport, endpoint string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "coder", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: tr.Client()}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "read_file", Arguments: map[string]any{"path": "/etc/motd"}})
	if err != nil {
		t.Fatalf("call tool: %v", err)
	}
	if text, ok := res.Content[0].(*mcp.TextContent); !ok || text.Text != "contents of /etc/motd" || res.IsError {
		t.Fatalf("result %+v", res)
	}
	if err := session.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// The official MCP Go SDK client, with the Transport under its
// StreamableClientTransport, calls a tool on a server that checks every
// request (POSTs, the GET stream, the closing DELETE).
func TestMCPClientThroughTransport(t *testing.T) {
	s := newSetup(t, filesServer())
	callReadFile(t, s.transport(t, nil), s.server.URL)

	jtis, failures, proofs := s.server.seen()
	if len(failures) > 0 {
		t.Fatalf("server refused: %v", failures)
	}
	s.server.mu.Lock()
	methods := slices.Clone(s.server.methods)
	s.server.mu.Unlock()
	if proofs < 3 || !slices.Contains(methods, http.MethodPost) || !slices.Contains(methods, http.MethodDelete) {
		t.Fatalf("requests seen: %v", methods)
	}
	if len(slices.Compact(jtis)) != 1 || s.fetches.n.Load() != 1 {
		t.Fatalf("%d token requests for one session", s.fetches.n.Load())
	}
}
