package sidecar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/test/sidecartest"
)

const (
	audience   = "https://mcp.test"
	policyYAML = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: sidecar-test}
spec:
  allowed_tools: [echo, add, blocked_by_caps]
  dlp:
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`
)

// fakeIssuer serves a real local signer's JWKS and a signed revocation
// list that tests edit.
type fakeIssuer struct {
	URL    string
	signer signer.Signer
	mu     sync.Mutex
	revs   []revocation.Revocation
	ver    int
}

func newFakeIssuer(tb testing.TB) *fakeIssuer {
	tb.Helper()
	s, err := signer.OpenLocalFile(signer.LocalConfig{Path: filepath.Join(tb.TempDir(), "k.pem")})
	if err != nil {
		tb.Fatal(err)
	}
	fi := &fakeIssuer{signer: s}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		set, err := signer.JWKS(r.Context(), s)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("GET /v1/revocations", func(w http.ResponseWriter, r *http.Request) {
		fi.mu.Lock()
		payload := map[string]any{"iss": fi.URL, "iat": time.Now().Unix(), "version": fmt.Sprint(fi.ver), "revocations": fi.revs}
		fi.mu.Unlock()
		jws, err := jwk.SignJWS(r.Context(), s, "revocation-list+jwt", payload)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"list": jws})
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	fi.URL = srv.URL
	return fi
}

func (fi *fakeIssuer) revoke(r revocation.Revocation) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	r.RevokedAt = time.Now()
	fi.revs = append(fi.revs, r)
	fi.ver++
}

// agentKey is the DPoP key of the test agent.
func agentKey(tb testing.TB) *dpop.Key {
	tb.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// mint signs an AAT for agent "agent-1" bound to k, after edit.
func (fi *fakeIssuer) mint(tb testing.TB, k *dpop.Key, edit func(*aat.Claims)) string {
	tb.Helper()
	c := aat.Claims{Issuer: fi.URL, Subject: "carol", Actor: aat.Actor{Subject: "agent-1"}, Audience: jwt.Audience{audience},
		Agent: aat.Agent{ID: "agent-1"}, UserBinding: aat.UserBinding{UserID: "carol"},
		Capabilities: aat.Capabilities{Tools: []string{"echo", "add"}}, Confirmation: &aat.Confirmation{JKT: k.Thumbprint()}}
	if edit != nil {
		edit(&c)
	}
	tok, err := aat.Mint(context.Background(), fi.signer, c)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// upstream is a fake MCP server answering every request with a result
// echoing the method, and recording the headers it got.
type upstream struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	sse     bool
}

func newUpstream(t *testing.T, sse bool) *upstream {
	u := &upstream{sse: sse}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.headers = append(u.headers, r.Header.Clone())
		u.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(body, &m) != nil || m.ID == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		resp := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"method":%q,"secret":"AKIAIOSFODNN7EXAMPLE"}}`, m.ID, m.Method)
		w.Header().Set("Mcp-Session-Id", "s-1")
		if u.sse {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "event: message\nid: 1\ndata: %s\n\n", resp)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(u.Close)
	return u
}

// sidecarUnder starts a sidecar (plain, embedded stores) in front of up.
func sidecarUnder(t *testing.T, fi *fakeIssuer, up string, extra string) string {
	t.Helper()
	return sidecarWith(t, fi, fmt.Sprintf("{url: %q}", up+"/mcp"), policyYAML, extra)
}

// sidecarWith starts a sidecar (plain, embedded stores) with the upstream
// section upstream (YAML) and the policy pol.
func sidecarWith(t *testing.T, fi *fakeIssuer, upstream, policy, extra string) string {
	t.Helper()
	return sidecarIn(t, t.TempDir(), fi, upstream, policy, extra)
}

// sidecarIn is sidecarWith with its files (policy.yaml, audit.jsonl) in
// dir, and revocation lists polled every 100 ms.
func sidecarIn(tb testing.TB, dir string, fi *fakeIssuer, upstream, policy, extra string) string {
	tb.Helper()
	return startSidecarIn(tb, dir, fi, upstream, policy, "revocation: {poll_interval: 100ms}\n"+extra)
}

// startSidecarIn starts a sidecar (plain, embedded stores) trusting fi, in
// front of upstream (YAML), with the policy pol and extra configuration;
// its files (policy.yaml, audit.jsonl) are in dir.
func startSidecarIn(tb testing.TB, dir string, fi *fakeIssuer, upstream, policy, extra string) string {
	tb.Helper()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o600); err != nil {
		tb.Fatal(err)
	}
	return sidecartest.Start(tb, fmt.Sprintf(`upstream: %s
policy: {path: %q}
audit: {path: %q}
audience: %q
issuers: [{issuer: %q}]
tls: {mode: plain}
%s`, upstream, pol, filepath.Join(dir, "audit.jsonl"), audience, fi.URL, extra))
}

// request builds a POST of body to url with token and a proof by k (nil:
// no proof).
func request(t *testing.T, url, body, token string, k *dpop.Key) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "DPoP "+token)
	}
	if k != nil {
		proof, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: url, AccessToken: token, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("DPoP", proof)
	}
	return req
}

// rpcError is the error member of a JSON-RPC response.
type rpcError struct {
	Code int `json:"code"`
	Data struct {
		TokenError string `json:"token_error"`
		Reason     string `json:"reason"`
	} `json:"data"`
}

func send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}
