package sidecar_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/test/env"
)

const fsPolicy = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: stdio-upstream-test}
spec:
  allowed_tools: [read_text_file, list_allowed_directories]
  dlp:
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{}},"clientInfo":{"name":"t","version":"1"}}}`

// childSidecar starts a sidecar in front of command (YAML list) and
// returns its MCP URL and a function sending a request with a fresh proof
// (a POST of body; a GET when body is empty).
func childSidecar(t *testing.T, command string) (string, func(body string) (int, []byte)) {
	t.Helper()
	fi := newFakeIssuer(t)
	url := sidecarWith(t, fi, "{command: "+command+"}", fsPolicy, "") + "/mcp"
	k := agentKey(t)
	tok := fi.mint(t, k, func(c *aat.Claims) {
		c.Capabilities.Tools = []string{"read_text_file", "list_allowed_directories"}
	})
	return url, func(body string) (int, []byte) {
		req := request(t, url, body, tok, k)
		if body == "" {
			req = request(t, url, body, tok, nil)
			req.Method, req.Body = http.MethodGet, nil
			proof, err := dpop.Proof(k, dpop.Options{Method: http.MethodGet, URL: url, AccessToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("DPoP", proof)
		}
		status, _, b := send(t, req)
		return status, b
	}
}

func quoteArgs(args []string) string {
	b, _ := json.Marshal(args)
	return string(b)
}

// The real server-filesystem behind the sidecar: the handshake, a batch
// routed back by id with DLP applied, clients reusing the same ids
// concurrently, and no server stream.
func TestStdioUpstream(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "key.txt"), []byte("key=AKIAIOSFODNN7EXAMPLE"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, post := childSidecar(t, quoteArgs(env.MCPServerCommand(t, env.MCPFilesystem, root)))

	status, b := post(initialize)
	if status != http.StatusOK || !strings.Contains(string(b), `"id":1`) || !strings.Contains(string(b), "serverInfo") {
		t.Fatalf("initialize: %d %s", status, b)
	}
	if status, b := post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %s", status, b)
	}

	t.Run("batch", func(t *testing.T) {
		status, b := post(fmt.Sprintf(`[{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"read_text_file","arguments":{"path":%q}}},
			{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_text_file","arguments":{"path":%q}}}]`,
			filepath.Join(root, "a.txt"), filepath.Join(root, "key.txt")))
		var resps []struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		if status != http.StatusOK || json.Unmarshal(b, &resps) != nil || len(resps) != 2 {
			t.Fatalf("batch: %d %s", status, b)
		}
		got := map[string]string{}
		for _, r := range resps {
			got[string(r.ID)] = string(r.Result)
		}
		if !strings.Contains(got[`"a"`], "hello") {
			t.Errorf(`id "a": %s`, got[`"a"`])
		}
		if !strings.Contains(got["2"], "[REDACTED:") || strings.Contains(got["2"], "AKIAIOSFODNN7EXAMPLE") {
			t.Errorf("id 2 not redacted: %s", got["2"])
		}
	})

	t.Run("concurrent clients with the same id", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				name := "a.txt"
				if i%2 == 1 {
					name = "missing.txt"
				}
				status, b := post(fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_text_file","arguments":{"path":%q}}}`, filepath.Join(root, name)))
				if status != http.StatusOK || !strings.Contains(string(b), `"id":1`) {
					t.Errorf("call %d: %d %s", i, status, b)
					return
				}
				if hello := strings.Contains(string(b), "hello"); hello != (i%2 == 0) {
					t.Errorf("call %d got another call's response: %s", i, b)
				}
			})
		}
		wg.Wait()
	})

	t.Run("no server stream", func(t *testing.T) {
		if status, b := post(""); status != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d %s, want 405", status, b)
		}
	})
}

// A stdio upstream that exits: the call in flight and the next ones get
// 502 with -32603, and readiness fails.
func TestStdioUpstreamExit(t *testing.T) {
	url, post := childSidecar(t, `[sh, -c, "read line; exit 3"]`)
	for i := range 2 {
		status, b := post(initialize)
		var resp struct{ Error rpcError }
		if status != http.StatusBadGateway || json.Unmarshal(b, &resp) != nil || resp.Error.Code != -32603 ||
			!strings.Contains(resp.Error.Data.Reason, "exited") {
			t.Fatalf("call %d: %d %s, want 502 -32603", i, status, b)
		}
	}
	ready := strings.TrimSuffix(url, "/mcp") + "/readyz"
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(ready)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: %d after the upstream exited, want 503", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// upstream.command in the configuration: accepted alone, refused empty or
// with url.
func TestUpstreamCommandConfig(t *testing.T) {
	tests := []struct {
		name, upstream, problem string
	}{
		{"command", `{command: [node, server.js, /srv]}`, ""},
		{"empty program", `{command: [""]}`, "upstream.command[0]"},
		{"url and command", `{url: "http://127.0.0.1:3001/mcp", command: [node]}`, "upstream: set url or command"},
		{"neither", `{command: []}`, "upstream.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := sidecar.Parse(fmt.Appendf(nil, `listen: 127.0.0.1:8080
upstream: %s
policy: {path: p.yaml}
audience: https://mcp.test
issuers: [{issuer: "http://127.0.0.1:8443"}]
tls: {mode: plain}
`, tt.upstream))
			switch {
			case tt.problem == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.problem == "" && len(cfg.UpstreamCommand) != 3:
				t.Fatalf("UpstreamCommand = %q", cfg.UpstreamCommand)
			case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
				t.Fatalf("Parse: %v, want a problem at %s", err, tt.problem)
			}
		})
	}
}
