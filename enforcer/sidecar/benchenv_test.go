package sidecar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer/signer"
)

// The benchmark environment. helpers_test.go builds the same pieces for
// tests but takes *testing.T; these take testing.TB.

const benchPolicy = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: sidecar-bench}
spec:
  allowed_tools: [echo]
  dlp:
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`

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

// benchIssuer serves a local signer's JWKS and an empty signed revocation
// list, and returns the issuer URL and the signer.
func benchIssuer(tb testing.TB) (string, signer.Signer) {
	tb.Helper()
	s, err := signer.OpenLocalFile(signer.LocalConfig{Path: filepath.Join(tb.TempDir(), "k.pem")})
	if err != nil {
		tb.Fatal(err)
	}
	var url string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		set, err := signer.JWKS(r.Context(), s)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("GET /v1/revocations", func(w http.ResponseWriter, r *http.Request) {
		payload := map[string]any{"iss": url, "iat": time.Now().Unix(), "version": "0", "revocations": []any{}}
		jws, err := signer.SignJWS(r.Context(), s, "revocation-list+jwt", payload)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"list": jws})
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	url = srv.URL
	return url, s
}

// benchAgent is the agent side: its DPoP key and an AAT bound to it,
// minted by the issuer at iss with s.
type benchAgent struct {
	key   *dpop.Key
	token string
}

func newBenchAgent(tb testing.TB, iss string, s signer.Signer) *benchAgent {
	tb.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := aat.Mint(context.Background(), s, aat.Claims{Issuer: iss, Subject: "carol", Actor: aat.Actor{Subject: "agent-1"},
		Audience: jwt.Audience{audience}, Agent: aat.Agent{ID: "agent-1"}, UserBinding: aat.UserBinding{UserID: "carol"},
		Capabilities: aat.Capabilities{Tools: []string{"echo"}}, Confirmation: &aat.Confirmation{JKT: k.Thumbprint()}})
	if err != nil {
		tb.Fatal(err)
	}
	return &benchAgent{key: k, token: tok}
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
// required, memory nonce store, polled revocations, the policy engine,
// DLP and an audit log in a temp file. It returns the sidecar's base URL.
func benchSidecar(tb testing.TB, iss, upstream string) string {
	tb.Helper()
	dir := tb.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(benchPolicy), 0o600); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := sidecar.Parse(fmt.Appendf(nil, `listen: %q
upstream: {url: %q}
policy: {path: %q}
audit: {path: %q}
audience: %q
issuers: [{issuer: %q}]
tls: {mode: plain}
require_proof: true
`, ln.Addr().String(), upstream+"/mcp", pol, filepath.Join(dir, "audit.jsonl"), audience, iss))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sidecar.New(ctx, cfg, sidecar.Options{})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
		_ = srv.Close()
	})
	base := "http://" + ln.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			tb.Fatal("sidecar never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
