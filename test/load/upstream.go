package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// upstream is the MCP server behind the enforcer: the MCP Go SDK's
// server over Streamable HTTP, in this process, with the tools the
// traffic uses. It stands in for a real tool server so that the run
// measures the enforcer, not a Node.js server sharing its two cores.
type upstream struct {
	url string
	srv *http.Server
}

type echoArgs struct {
	Message string `json:"message"`
}

type addArgs struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

type noteArgs struct {
	Path string `json:"path"`
	Text string `json:"text"`
}

func startUpstream() (*upstream, error) {
	s := mcp.NewServer(&mcp.Implementation{Name: "aip-load-upstream", Version: "1"}, nil)
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echoes the message."},
		func(_ context.Context, _ *mcp.CallToolRequest, a echoArgs) (*mcp.CallToolResult, any, error) {
			return text("Echo: " + a.Message), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Adds two numbers."},
		func(_ context.Context, _ *mcp.CallToolRequest, a addArgs) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprint(a.A + a.B)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "write_note", Description: "Writes a note (not kept)."},
		func(_ context.Context, _ *mcp.CallToolRequest, a noteArgs) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprintf("wrote %d bytes to %s", len(a.Text), a.Path)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_all", Description: "The policy never lets this through."},
		func(_ context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return nil, nil, errors.New("delete_all reached the upstream: the enforcer let a denied tool through")
		})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{JSONResponse: true}))
	u := &upstream{url: "http://" + ln.Addr().String() + "/mcp", srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

func (u *upstream) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return u.srv.Shutdown(ctx)
}
