package sidecar_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/identity/dpop"
)

// The benchmark environment: the test helpers (helpers_test.go) with an
// upstream that answers without a secret, so that DLP scans but does not
// redact.

// benchUpstream is an MCP-like server answering every JSON-RPC request
// with a small result.
func benchUpstream(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(body, &m) != nil || m.ID == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"hello from the upstream, nothing secret here"}]}}`, m.ID)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// benchAgent is the agent side: its DPoP key and an AAT bound to it.
type benchAgent struct {
	key   *dpop.Key
	token string
}

func newBenchAgent(tb testing.TB, fi *fakeIssuer) *benchAgent {
	tb.Helper()
	k := agentKey(tb)
	return &benchAgent{key: k, token: fi.mint(tb, k, nil)}
}

// proof is the DPoP proof for a POST of body to url.
func (a *benchAgent) proof(tb testing.TB, url string, body []byte) string {
	p, err := dpop.Proof(a.key, dpop.Options{Method: http.MethodPost, URL: url, AccessToken: a.token, Body: body})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// benchSidecar starts a plain-loopback sidecar in front of upstream with
// the full pipeline on: AAT against the issuer's JWKS, DPoP proofs
// required, memory nonce store, revocations polled at the default
// interval, the policy engine, DLP and an audit log in a temp file. It
// returns the sidecar's base URL.
func benchSidecar(tb testing.TB, fi *fakeIssuer, upstream string) string {
	tb.Helper()
	return startSidecarIn(tb, tb.TempDir(), fi, fmt.Sprintf("{url: %q}", upstream+"/mcp"), policyYAML, "")
}

// sdkUpstream is a real MCP server: the official Go SDK's Streamable HTTP
// handler (stateless, JSON responses) with an echo tool.
func sdkUpstream(tb testing.TB) *httptest.Server {
	tb.Helper()
	type echoArgs struct {
		Message string `json:"message"`
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echoes the message."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// bareProxy is the floor of any sidecar: an HTTP server that forwards
// each POST to upstream with the sidecar's upstream client and copies the
// response back, checking nothing. It returns the proxy's base URL.
func bareProxy(tb testing.TB, upstream string) string {
	tb.Helper()
	client, closeIdle := sidecar.NewUpstreamClient(upstream)
	tb.Cleanup(closeIdle)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, upstream, bytes.NewReader(body))
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		req.Header.Set("Accept", r.Header.Get("Accept"))
		resp, err := client.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}
