package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aip-project/aip/test/stacktest"
)

const (
	localUser = "carol"
	audience  = "https://everything.mcp.test"
	policy    = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: everything}
spec:
  allowed_tools: [echo, get-sum]
`
)

// startSidecar runs `aip-enforcer serve` in-process with the policy and
// audience above, configured by o, and returns its base URL once it is
// ready.
func startSidecar(t *testing.T, o stacktest.SidecarOptions) string {
	t.Helper()
	o.Policy, o.Audience = policy, audience
	return stacktest.StartSidecar(t, o).URL
}

// rpcResponse is what the tests read of a JSON-RPC answer.
type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code int `json:"code"`
		Data struct {
			TokenError string `json:"token_error"`
			Reason     string `json:"reason"`
		} `json:"data"`
	} `json:"error"`
}

// code is the JSON-RPC error code, 0 for a result.
func (r rpcResponse) code() int {
	if r.Error == nil {
		return 0
	}
	return r.Error.Code
}

// mcpSession is an MCP session with a Streamable HTTP server, over the
// client c (the agent SDK): raw requests, so a test sees every status
// and error code the sidecar answers.
type mcpSession struct {
	c   *http.Client
	url string
	id  string // Mcp-Session-Id
}

// openSession initializes a session with the MCP endpoint url.
func openSession(t *testing.T, c *http.Client, url string) *mcpSession {
	t.Helper()
	s := &mcpSession{c: c, url: url}
	status, resp, hdr, err := s.post(context.Background(), `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fault","version":"1"}}}`)
	if err != nil || status != http.StatusOK || resp.Error != nil {
		t.Fatalf("initialize through %s: %d %+v %v", url, status, resp.Error, err)
	}
	s.id = hdr.Get("Mcp-Session-Id")
	if s.id == "" {
		t.Fatalf("initialize through %s: no Mcp-Session-Id", url)
	}
	if status, _, _, err := s.post(context.Background(), `{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil || status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %v", status, err)
	}
	return s
}

// echo calls the echo tool with msg.
func (s *mcpSession) echo(ctx context.Context, msg string) (int, rpcResponse, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return 0, rpcResponse{}, err
	}
	status, resp, _, err := s.post(ctx, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":`+string(b)+`}}}`)
	return status, resp, err
}

// post sends one JSON-RPC message and reads a JSON or SSE answer.
func (s *mcpSession) post(ctx context.Context, body string) (int, rpcResponse, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(body))
	if err != nil {
		return 0, rpcResponse{}, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
	}
	return send(s.c, req)
}

// send does req with c and decodes the JSON-RPC answer (JSON or SSE).
func send(c *http.Client, req *http.Request) (int, rpcResponse, http.Header, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, rpcResponse{}, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, rpcResponse{}, resp.Header, err
	}
	b = stacktest.JSONRPCMessage(b)
	var out rpcResponse
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return resp.StatusCode, out, resp.Header, fmt.Errorf("answer is not JSON-RPC (%d): %.200s", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out, resp.Header, nil
}
