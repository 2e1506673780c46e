package security

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/test/stacktest"
)

// Bodies the attacks send.
const (
	initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"attacker","version":"1"}}}`
	echoCall   = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}`
)

// agentID, sessionID are the identity of the tokens mint makes.
const (
	agentID   = "coder"
	sessionID = "sess-1"
)

// claims are valid claims for the sidecar, bound to k.
func (st *stack) claims(k *dpop.Key) aat.Claims {
	return aat.Claims{Issuer: st.issuerURL, Subject: localUser, Actor: aat.Actor{Subject: agentID},
		Audience: []string{audience}, Agent: aat.Agent{ID: agentID}, UserBinding: aat.UserBinding{UserID: localUser},
		Capabilities: aat.Capabilities{Tools: []string{"echo", "get-sum", "read_file"}}, SessionID: sessionID,
		Confirmation: &aat.Confirmation{JKT: k.Thumbprint()}}
}

// mint signs c with s (the issuer's signer unless an attack says
// otherwise).
func mint(t *testing.T, s signer.Signer, c aat.Claims) string {
	t.Helper()
	tok, err := aat.Minter{Signer: s}.Mint(context.Background(), c)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return tok
}

// request is one HTTP request of an attack.
type request struct {
	method string // default POST
	path   string // default /mcp
	body   string
	token  string
	proof  string // the DPoP header; empty: none
}

// prove adds a proof by k for the request as sent.
func (st *stack) prove(t *testing.T, k *dpop.Key, r request) request {
	t.Helper()
	r = r.defaults()
	p, err := dpop.Proof(k, dpop.Options{Method: r.method, URL: st.sidecar + r.path, AccessToken: r.token, Body: []byte(r.body)})
	if err != nil {
		t.Fatal(err)
	}
	r.proof = p
	return r
}

func (r request) defaults() request {
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = "/mcp"
	}
	return r
}

// answer is what an attack got: the HTTP status and the AIP error of a
// JSON-RPC error or a /v1/validate answer.
type answer struct {
	status     int
	code       int
	tokenError string
	decision   string // /v1/validate only
	body       string
}

// send sends r to the sidecar on a connection of its own.
func (st *stack) send(t *testing.T, r request) answer {
	t.Helper()
	r = r.defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, st.sidecar+r.path, bytes.NewReader([]byte(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if r.token != "" {
		req.Header.Set("Authorization", "DPoP "+r.token)
	}
	if r.proof != "" {
		req.Header.Set("DPoP", r.proof)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", r.method, r.path, err)
	}
	return parseAnswer(resp.StatusCode, b)
}

func parseAnswer(status int, b []byte) answer {
	a := answer{status: status, body: string(b)}
	b = stacktest.JSONRPCMessage(b) // an SSE stream: its first event
	var v struct {
		Error *struct {
			Code int `json:"code"`
			Data struct {
				TokenError string `json:"token_error"`
			} `json:"data"`
		} `json:"error"`
		Decision string `json:"decision"`
		Code     int    `json:"code"`
		Data     struct {
			TokenError string `json:"token_error"`
		} `json:"data"`
	}
	_ = json.Unmarshal(b, &v)
	a.decision, a.code, a.tokenError = v.Decision, v.Code, v.Data.TokenError
	if v.Error != nil {
		a.code, a.tokenError = v.Error.Code, v.Error.Data.TokenError
	}
	return a
}

// attack is one case of a table: the request and what the sidecar must
// answer. Every attack is refused: the upstream must see nothing.
type attack struct {
	name       string
	req        func(t *testing.T) request
	status     int
	code       int
	tokenError string // when set, data.token_error must be it
	audit      int    // records the refusal adds to the audit log
}

// run sends each attack and checks the answer, that the MCP server saw
// nothing and the audit records it added.
func (st *stack) run(t *testing.T, attacks []attack) {
	t.Helper()
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			r := a.req(t)
			st.expectRefused(t, a, func() answer { return st.send(t, r) })
		})
	}
}

// expectRefused runs do and checks its answer against a.
func (st *stack) expectRefused(t *testing.T, a attack, do func() answer) {
	t.Helper()
	up, lines := st.upstream.Load(), st.auditLines(t)
	got := do()
	if got.status != a.status || got.code != a.code || (a.tokenError != "" && got.tokenError != a.tokenError) {
		t.Errorf("got %d %d %q, want %d %d %q; body %.300s", got.status, got.code, got.tokenError, a.status, a.code, a.tokenError, got.body)
	}
	if n := st.upstream.Load() - up; n != 0 {
		t.Errorf("the MCP server received %d request(s) of a refused call", n)
	}
	if n := st.auditLines(t) - lines; n != a.audit {
		t.Errorf("%d audit record(s) added, want %d", n, a.audit)
	}
}

// expectAllowed checks that r goes through to the MCP server: the control
// that shows an attack's refusal is due to the attack.
func (st *stack) expectAllowed(t *testing.T, r request) {
	t.Helper()
	up := st.upstream.Load()
	got := st.send(t, r)
	if got.status != http.StatusOK || got.code != 0 {
		t.Fatalf("control call refused: %d %d %q; body %.300s", got.status, got.code, got.tokenError, got.body)
	}
	if st.upstream.Load() == up {
		t.Fatal("control call answered without reaching the MCP server")
	}
}
