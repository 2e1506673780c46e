package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// End to end: the real issuer (Redis store), two `aip-enforcer serve`
// sidecars sharing one real Redis, in front of the real server-everything
// (Streamable HTTP), driven by the official MCP Go SDK client through the
// agent SDK.
func TestSidecarEndToEnd(t *testing.T) {
	rds := env.Redis(t)
	mcpURL := env.MCPServerHTTP(t)
	const prefix = "aipsidecar"
	clock := new(stacktest.OffsetClock)
	issuerURL, is := startSidecarIssuer(t, clock)
	key := registerNativeAgent(t, is, "coder", "echo")
	a := startSidecar(t, issuerURL, mcpURL, rds.Addr, prefix, "")
	// B is reached under A's URL, as behind a load balancer, so that A's
	// proofs are valid for B too and only the shared nonces stop a replay.
	b := startSidecar(t, issuerURL, mcpURL, rds.Addr, prefix, a)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rec := &stacktest.Recorder{}
	tr := agentTransport(t, issuerURL, sidecarAudience, key, rec, nil)
	client := mcp.NewClient(&mcp.Implementation{Name: "coder", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: a + "/mcp", HTTPClient: tr.Client()}, nil)
	if err != nil {
		t.Fatalf("connect through the sidecar: %v", err)
	}
	defer func() { _ = session.Close() }()

	t.Run("allowed call", func(t *testing.T) {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello"}})
		if err != nil {
			t.Fatalf("echo: %v", err)
		}
		if text, ok := res.Content[0].(*mcp.TextContent); !ok || res.IsError || !bytes.Contains([]byte(text.Text), []byte("hello")) {
			t.Fatalf("echo result %+v", res.Content[0])
		}
	})

	t.Run("tool outside the capabilities", func(t *testing.T) {
		_, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "get-sum", Arguments: map[string]any{"a": 1, "b": 2}})
		var werr *jsonrpc.Error
		if !errors.As(err, &werr) || werr.Code != -32017 {
			t.Fatalf("get-sum: %v, want -32017", err)
		}
	})

	t.Run("replayed request on the other enforcer", func(t *testing.T) {
		if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "once"}}); err != nil {
			t.Fatal(err)
		}
		h, body := rec.Last()
		// The same bytes, token and proof, to B and then to A.
		for _, base := range []string{b, a} {
			status, resp := post(t, base+"/mcp", h, body)
			if status != http.StatusUnauthorized || resp.Error.Code != -32009 || resp.Error.Data.TokenError != "replay_detected" {
				t.Fatalf("replay to %s: %d %+v", base, status, resp.Error)
			}
		}
	})

	t.Run("expired token", func(t *testing.T) {
		clock.Set(-time.Hour)
		defer clock.Set(0)
		// An agent whose clock agrees with the issuer's, an hour behind.
		old := agentTransport(t, issuerURL, sidecarAudience, key, nil, clock.Now)
		status, resp := rpc(t, old.Client(), a+"/mcp", "echo")
		if status != http.StatusUnauthorized || resp.Error.Code != -32009 || resp.Error.Data.TokenError != "token_expired" {
			t.Fatalf("expired: %d %+v", status, resp.Error)
		}
	})

	t.Run("wrong audience", func(t *testing.T) {
		other := agentTransport(t, issuerURL, "https://another.mcp.test", key, nil, nil)
		status, resp := rpc(t, other.Client(), a+"/mcp", "echo")
		if status != http.StatusUnauthorized || resp.Error.Code != -32012 {
			t.Fatalf("wrong audience: %d %+v", status, resp.Error)
		}
	})

	t.Run("revoked agent denied by both enforcers", func(t *testing.T) {
		// Both are called at A's URL; B's client goes to B (see startSidecar).
		clients := map[string]*http.Client{
			a: agentTransport(t, issuerURL, sidecarAudience, key, nil, nil).Client(),
			b: agentTransport(t, issuerURL, sidecarAudience, key, stacktest.Via{From: a, To: b}, nil).Client(),
		}
		for _, base := range []string{a, b} {
			if status, resp := rpc(t, clients[base], a+"/mcp", ""); status != http.StatusOK {
				t.Fatalf("before revocation %s: %d %+v", base, status, resp.Error)
			}
		}
		store, err := revocation.NewRedis(revocation.RedisConfig{Client: rds.Client(t), Prefix: prefix + ":revocations", Channel: prefix + ":revocations"})
		if err != nil {
			t.Fatal(err)
		}
		if err := revokeAgent(ctx, store, "coder"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for _, base := range []string{a, b} {
			for {
				status, resp := rpc(t, clients[base], a+"/mcp", "")
				if resp.Error.Code == -32011 {
					break
				}
				if time.Since(start) > 2*time.Second {
					t.Fatalf("%s still answers %d %+v two seconds after the revocation", base, status, resp.Error)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		t.Logf("revocation enforced by both enforcers %s after it was made", time.Since(start))
	})
}

// Redis stopped: the sidecar denies (fail closed); started again: it
// recovers without a restart.
func TestSidecarRedisOutage(t *testing.T) {
	rds := env.Redis(t)
	mcpURL := env.MCPServerHTTP(t)
	const prefix = "aipoutage"
	clock := new(stacktest.OffsetClock)
	issuerURL, is := startSidecarIssuer(t, clock)
	key := registerNativeAgent(t, is, "coder", "echo")
	a := startSidecar(t, issuerURL, mcpURL, rds.Addr, prefix, "")
	tr := agentTransport(t, issuerURL, sidecarAudience, key, nil, nil)
	if status, resp := rpc(t, tr.Client(), a+"/mcp", ""); status != http.StatusOK {
		t.Fatalf("before the outage: %d %+v", status, resp.Error)
	}

	rds.Stop(t)
	restarted := false
	defer func() {
		if !restarted {
			rds.Start(t)
		}
	}()
	status, resp := rpc(t, tr.Client(), a+"/mcp", "")
	if status != http.StatusServiceUnavailable || resp.Error.Code != -32603 || resp.Error.Data.Reason == "" {
		t.Fatalf("with redis down: %d %+v, want 503 and a reason", status, resp.Error)
	}
	t.Logf("denied with redis down: %s", resp.Error.Data.Reason)

	rds.Start(t)
	restarted = true
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, resp = rpc(t, tr.Client(), a+"/mcp", "")
		if status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after redis came back: %d %+v", status, resp.Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func revokeAgent(ctx context.Context, store *revocation.RedisStore, id string) error {
	_, err := store.Revoke(ctx, revocation.Revocation{Kind: revocation.KindAgent, Subject: id, Reason: "test"})
	return err
}

// rpcResponse is what the tests read of a JSON-RPC answer.
type rpcResponse struct {
	Error struct {
		Code int `json:"code"`
		Data struct {
			TokenError string `json:"token_error"`
			Reason     string `json:"reason"`
		} `json:"data"`
	} `json:"error"`
}

// rpc POSTs a tools/call of tool (initialize when tool is "") with c (the agent SDK) and
// reads a JSON or SSE answer.
func rpc(t *testing.T, c *http.Client, url, tool string) (int, rpcResponse) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"message":"x"}}}`
	if tool == "" { // initialize: answered by server-everything without a session
		body = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	return do(t, c, req)
}

// post sends body with exactly the headers h.
func post(t *testing.T, url string, h http.Header, body []byte) (int, rpcResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	return do(t, http.DefaultClient, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (int, rpcResponse) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var out rpcResponse
	b = stacktest.JSONRPCMessage(b)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}
