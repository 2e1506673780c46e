package sidecar_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/aat"
)

const decidePolicy = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: decide-test}
spec:
  allowed_tools: [echo, deploy]
  tool_rules:
    - tool: deploy
      action: ask
  dlp:
    scan_requests: true
    on_request_match: redact
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`

// POST /v1/validate decides a call with the token's checks and the
// policy, forwards nothing, and audits the answer.
func TestValidateEndpoint(t *testing.T) {
	fi := newFakeIssuer(t)
	up := newUpstream(t, false)
	dir := t.TempDir()
	base := sidecarIn(t, dir, fi, fmt.Sprintf("{url: %q}", up.URL+"/mcp"), decidePolicy, "")
	url := base + "/v1/validate"
	k := agentKey(t)
	tok := fi.mint(t, k, func(c *aat.Claims) {
		withIDs(c)
		c.Capabilities.Tools = []string{"echo", "deploy", "other"}
	})
	replayed := request(t, url, `{"tool":"echo","arguments":{}}`, tok, k)
	send(t, replayed.Clone(replayed.Context()))
	replayed.Body = http.NoBody
	replay := request(t, url, `{"tool":"echo","arguments":{}}`, "", nil)
	replay.Header = replayed.Header

	tests := []struct {
		name       string
		req        *http.Request
		status     int
		decision   string
		code       int
		tokenError string
	}{
		{"allowed", request(t, url, `{"tool":"echo","arguments":{"message":"hi"}}`, tok, k), 200, "allow", 0, ""},
		{"method other than tools/call", request(t, url, `{"method":"tools/list"}`, tok, k), 200, "allow", 0, ""},
		{"outside the policy", request(t, url, `{"tool":"other","arguments":{}}`, tok, k), 403, "deny", -32001, ""},
		{"needs approval", request(t, url, `{"tool":"deploy","arguments":{"env":"prod"}}`, tok, k), 403, "ask", 0, ""},
		{"secret the enforcer would redact", request(t, url, `{"tool":"echo","arguments":{"message":"AKIAIOSFODNN7EXAMPLE"}}`, tok, k), 403, "deny", -32001, ""},
		{"outside the capabilities", request(t, url, `{"tool":"echo2","arguments":{}}`, fi.mint(t, k, nil), k), 403, "deny", -32017, ""},
		{"no token", request(t, url, `{"tool":"echo","arguments":{}}`, "", nil), 401, "deny", -32008, ""},
		{"no proof", request(t, url, `{"tool":"echo","arguments":{}}`, tok, nil), 401, "deny", -32009, "invalid_proof"},
		{"replayed", replay, 401, "deny", -32009, "replay_detected"},
		{"unknown member", request(t, url, `{"tool":"echo","args":{}}`, tok, k), 400, "deny", -32600, ""},
		{"no tool", request(t, url, `{"arguments":{}}`, tok, k), 400, "deny", -32600, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := send(t, tt.req)
			var got struct {
				Decision string `json:"decision"`
				Code     int    `json:"code"`
				Reason   string `json:"reason"`
				Data     struct {
					TokenError string `json:"token_error"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if status != tt.status || got.Decision != tt.decision || got.Code != tt.code || got.Data.TokenError != tt.tokenError {
				t.Fatalf("%d %s; want %d decision %s code %d token_error %q", status, body, tt.status, tt.decision, tt.code, tt.tokenError)
			}
			if tt.decision != "allow" && got.Reason == "" {
				t.Error("a refusal without a reason")
			}
			if status == 401 && !strings.Contains(h.Get("WWW-Authenticate"), "resource_metadata=") {
				t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
			}
		})
	}
	up.mu.Lock()
	n := len(up.headers)
	up.mu.Unlock()
	if n != 0 {
		t.Fatalf("validate forwarded %d requests upstream", n)
	}
	var asked, allowed bool
	for _, r := range auditRecords(t, dir) {
		if r.AgentID != "agent-1" && r.Tool != "" && r.Tool != "echo2" {
			t.Errorf("record without the caller: %+v", r)
		}
		asked = asked || r.Tool == "deploy" && r.FailedRule == "tool_rules.ask"
		allowed = allowed || r.Tool == "echo" && r.Decision == "ALLOW"
	}
	if !asked || !allowed {
		t.Fatalf("decisions not audited (ask %v, allow %v)", asked, allowed)
	}
}
