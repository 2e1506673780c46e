package sidecar_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/revocation"
)

const callEcho = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`

// Every refusal of the request pipeline, each with its HTTP status, AIP
// code and token_error, and the upstream never reached.
func TestPipelineRefusals(t *testing.T) {
	fi := newFakeIssuer(t)
	up := newUpstream(t, false)
	base := sidecarUnder(t, fi, up.URL, "")
	url := base + "/mcp"
	k := agentKey(t)
	other := agentKey(t)
	stranger := newFakeIssuer(t)
	fi.revoke(revocation.Revocation{Kind: revocation.KindAgent, Subject: "agent-revoked"})
	time.Sleep(300 * time.Millisecond) // a poll or two

	tests := []struct {
		name       string
		req        func() *http.Request
		status     int
		code       int
		tokenError string
	}{
		{"no token", func() *http.Request { return request(t, url, callEcho, "", nil) }, 401, -32008, ""},
		{"token in the query only", func() *http.Request {
			return request(t, url+"?access_token="+fi.mint(t, k, nil), callEcho, "", nil)
		}, 401, -32008, ""},
		{"garbage token", func() *http.Request { return request(t, url, callEcho, "not-a-jwt", nil) }, 401, -32009, "malformed_token"},
		{"expired", func() *http.Request {
			tok := fi.mint(t, k, func(c *aat.Claims) {
				c.IssuedAt = *jwt.NewNumericDate(time.Now().Add(-10 * time.Minute))
				c.Expiry = *jwt.NewNumericDate(time.Now().Add(-5 * time.Minute))
			})
			return request(t, url, callEcho, tok, k)
		}, 401, -32009, "token_expired"},
		{"wrong audience", func() *http.Request {
			tok := fi.mint(t, k, func(c *aat.Claims) { c.Audience = jwt.Audience{"https://other.test"} })
			return request(t, url, callEcho, tok, k)
		}, 401, -32012, "audience_mismatch"},
		{"untrusted issuer", func() *http.Request { return request(t, url, callEcho, stranger.mint(t, k, nil), k) }, 401, -32020, "issuer_untrusted"},
		{"no proof", func() *http.Request { return request(t, url, callEcho, fi.mint(t, k, nil), nil) }, 401, -32009, "invalid_proof"},
		{"proof by another key", func() *http.Request { return request(t, url, callEcho, fi.mint(t, k, nil), other) }, 401, -32009, "invalid_proof"},
		{"proof over another body", func() *http.Request {
			tok := fi.mint(t, k, nil)
			r := request(t, url, callEcho, tok, k)
			r2 := request(t, url, strings.Replace(callEcho, "hi", "ho", 1), tok, nil)
			r2.Header.Set("DPoP", r.Header.Get("DPoP"))
			return r2
		}, 401, -32009, "invalid_proof"},
		{"token without dpop binding", func() *http.Request {
			return request(t, url, callEcho, fi.mint(t, k, func(c *aat.Claims) { c.Confirmation = &aat.Confirmation{X5TS256: "abc"} }), k)
		}, 401, -32009, "binding_mismatch"},
		{"policy hash of another policy", func() *http.Request {
			return request(t, url, callEcho, fi.mint(t, k, func(c *aat.Claims) { c.PolicyHash = "sha256:0000" }), k)
		}, 401, -32016, "policy_hash_mismatch"},
		{"SVID actor not registered for the agent", func() *http.Request {
			tok := fi.mint(t, k, func(c *aat.Claims) { c.Actor.Subject = "spiffe://example.org/agent/stranger" })
			return request(t, url, callEcho, tok, k)
		}, 401, -32018, ""},
		{"SVID actor registered for another agent", func() *http.Request {
			tok := fi.mint(t, k, func(c *aat.Claims) {
				c.Actor.Subject, c.Agent.SPIFFEID = "spiffe://example.org/agent/a", "spiffe://example.org/agent/b"
			})
			return request(t, url, callEcho, tok, k)
		}, 401, -32018, ""},
		{"revoked agent", func() *http.Request {
			tok := fi.mint(t, k, func(c *aat.Claims) { c.Agent.ID = "agent-revoked" })
			return request(t, url, callEcho, tok, k)
		}, 401, -32011, ""},
		{"tool outside the capabilities", func() *http.Request {
			body := strings.Replace(callEcho, `"echo"`, `"blocked_by_caps"`, 1)
			return request(t, url, body, fi.mint(t, k, nil), k)
		}, 403, -32017, ""},
		{"Mcp-Method header differs from the body", func() *http.Request {
			r := request(t, url, callEcho, fi.mint(t, k, nil), k)
			r.Header.Set("Mcp-Method", "tools/list")
			return r
		}, 400, -32600, ""},
		{"Mcp-Name header differs from the body", func() *http.Request {
			r := request(t, url, callEcho, fi.mint(t, k, nil), k)
			r.Header.Set("Mcp-Method", "tools/call")
			r.Header.Set("Mcp-Name", "add")
			return r
		}, 400, -32600, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.mu.Lock()
			before := len(up.headers)
			up.mu.Unlock()
			status, h, body := send(t, tt.req())
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			var resp struct {
				ID    json.RawMessage `json:"id"`
				Error rpcError        `json:"error"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if resp.Error.Code != tt.code || resp.Error.Data.TokenError != tt.tokenError {
				t.Fatalf("error %+v, want code %d token_error %q", resp.Error, tt.code, tt.tokenError)
			}
			if tt.code != -32600 && tt.code != -32008 && string(resp.ID) != "7" {
				t.Errorf("id %s, want the request's 7", resp.ID)
			}
			if status == 401 && !strings.Contains(h.Get("WWW-Authenticate"), `resource_metadata="`+base+"/.well-known/oauth-protected-resource/mcp") {
				t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
			}
			up.mu.Lock()
			after := len(up.headers)
			up.mu.Unlock()
			if after != before {
				t.Error("a refused request reached the upstream server")
			}
		})
	}
}

// An allowed call reaches the server without the token or proof, its id
// comes back as the client sent it, DLP redacts the result (JSON and
// SSE), and the same request sent again is a replay.
func TestPipelineAllowsAndRefusesReplay(t *testing.T) {
	for _, sse := range []bool{false, true} {
		name := "json"
		if sse {
			name = "sse"
		}
		t.Run(name, func(t *testing.T) {
			fi := newFakeIssuer(t)
			up := newUpstream(t, sse)
			base := sidecarUnder(t, fi, up.URL, "")
			k := agentKey(t)
			req := request(t, base+"/mcp", callEcho, fi.mint(t, k, nil), k)
			replay := req.Clone(req.Context())
			replay.Body = http.NoBody
			status, h, body := send(t, req)
			if status != 200 || h.Get("Mcp-Session-Id") != "s-1" {
				t.Fatalf("status %d session %q: %s", status, h.Get("Mcp-Session-Id"), body)
			}
			text := string(body)
			if sse {
				if !strings.Contains(text, "id: 1\n") || !strings.HasPrefix(strings.SplitN(text, "data: ", 2)[1], `{"jsonrpc":"2.0","id":7,`) {
					t.Fatalf("sse body %q", text)
				}
			} else if !strings.HasPrefix(text, `{"jsonrpc":"2.0","id":7,`) {
				t.Fatalf("body %s", text)
			}
			if strings.Contains(text, "AKIAIOSFODNN7EXAMPLE") {
				t.Errorf("secret not redacted: %s", text)
			}
			up.mu.Lock()
			got := up.headers[len(up.headers)-1]
			up.mu.Unlock()
			if got.Get("Authorization") != "" || got.Get("DPoP") != "" {
				t.Error("the token or proof was forwarded upstream")
			}

			replay.Body = http.NoBody
			r2 := request(t, base+"/mcp", callEcho, "", nil)
			r2.Header = replay.Header
			status, _, body = send(t, r2)
			var resp struct{ Error rpcError }
			_ = json.Unmarshal(body, &resp)
			if status != 401 || resp.Error.Code != -32009 || resp.Error.Data.TokenError != "replay_detected" {
				t.Fatalf("replay: status %d %s", status, body)
			}
		})
	}
}

// The protected resource metadata names the trusted issuers.
func TestMetadata(t *testing.T) {
	fi := newFakeIssuer(t)
	base := sidecarUnder(t, fi, newUpstream(t, false).URL, "")
	resp, err := http.Get(base + "/.well-known/oauth-protected-resource/mcp")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var md struct {
		Resource string   `json:"resource"`
		AS       []string `json:"authorization_servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil || md.Resource != base+"/mcp" || len(md.AS) != 1 || md.AS[0] != fi.URL {
		t.Fatalf("metadata %+v, %v", md, err)
	}
}

var _ = dpop.Type
