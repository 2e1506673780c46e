package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
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

// startIssuer runs a real issuer in-process on loopback: a file store
// and, unless extra (more top-level YAML) has a signer, a local signing
// key and the local user carol. now is its clock (nil: time.Now). It
// returns the base URL, the issuer and its audit log's path.
func startIssuer(t *testing.T, extra string, now func() time.Time) (string, *issuer.Issuer, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := "http://" + ln.Addr().String()
	if strings.Contains(extra, "tls:") {
		base = "https://" + ln.Addr().String()
	}
	auditPath := filepath.Join(dir, "audit.jsonl")
	yaml := fmt.Sprintf("listen: %q\nissuer_url: %q\naudit: {path: %q}\nstore: {type: file, path: %q}\n",
		ln.Addr().String(), base, auditPath, filepath.Join(dir, "store"))
	if !strings.Contains(extra, "signer:") {
		yaml += fmt.Sprintf("signer: {type: local, key_file: %q}\nlocal_user: {enabled: true, user_id: %s}\n", filepath.Join(dir, "key.pem"), localUser)
	}
	cfg, err := config.Parse([]byte(yaml + extra))
	if err != nil {
		_ = ln.Close()
		t.Fatalf("issuer config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	is, err := issuer.New(ctx, cfg, issuer.Options{Now: now})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("issuer.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- is.Server.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("issuer serve: %v", err)
		}
		_ = is.Close()
	})
	return base, is, auditPath
}

// sidecarConfig is what differs between the sidecars of the tests.
type sidecarConfig struct {
	issuer, upstream string
	redis, prefix    string // shared stores when redis is set
	publicURL        string // the URL clients use, when not the listener's
	extra            string // more top-level YAML
	// tls is the tls section (default: plain); with it, issuerClient
	// reaches the issuer and probe the sidecar.
	tls                 string
	issuerClient, probe *http.Client
}

// startSidecar runs `aip-enforcer serve` in-process (plain loopback) and
// returns its base URL once /readyz answers 200.
func startSidecar(t *testing.T, c sidecarConfig) string {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	extra := c.extra
	if c.publicURL != "" {
		extra += fmt.Sprintf("public_url: %q\n", c.publicURL)
	}
	if c.redis != "" {
		extra += fmt.Sprintf("redis: {addrs: [%q], prefix: %q, timeout: 500ms}\n", c.redis, c.prefix)
	}
	base, probe := "http://"+ln.Addr().String(), http.DefaultClient
	if c.tls == "" {
		c.tls = "tls: {mode: plain}\n"
	} else {
		base, probe = "https://"+ln.Addr().String(), c.probe
	}
	cfg, err := sidecar.Parse(fmt.Appendf(nil, "listen: %q\nupstream: {url: %q}\npolicy: {path: %q}\naudit: {path: %q}\naudience: %q\nissuers: [{issuer: %q}]\n%s%s",
		ln.Addr().String(), c.upstream, pol, filepath.Join(dir, "audit.jsonl"), audience, c.issuer, c.tls, extra))
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sidecar.New(ctx, cfg, sidecar.Options{HTTPClient: c.issuerClient})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sidecar serve: %v", err)
		}
		_ = srv.Close()
	})
	waitReady(t, probe, base)
	return base
}

// waitReady polls base/readyz with c until it answers 200.
func waitReady(t *testing.T, c *http.Client, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became ready (last error: %v)", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
	if i := bytes.Index(b, []byte("data: ")); i >= 0 {
		b = b[i+len("data: "):]
		if j := bytes.IndexByte(b, '\n'); j >= 0 {
			b = b[:j]
		}
	}
	var out rpcResponse
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			return resp.StatusCode, out, resp.Header, fmt.Errorf("answer is not JSON-RPC (%d): %.200s", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out, resp.Header, nil
}
