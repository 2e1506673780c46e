package sidecar_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A refusal decided before the policy audits the JSON-RPC method, never
// the HTTP one, and no method when the body was not parsed.
func TestRefusalAuditsTheJSONRPCMethod(t *testing.T) {
	fi := newFakeIssuer(t)
	up := newUpstream(t, false)
	dir := t.TempDir()
	base := sidecarIn(t, dir, fi, fmt.Sprintf("{url: %q}", up.URL+"/mcp"), policyYAML, "")
	tests := []struct {
		name   string
		method string
		body   string
		want   string
	}{
		{"tools/call without a token", http.MethodPost, callEcho, "tools/call"},
		{"body that is not JSON-RPC", http.MethodPost, "not json", ""},
		{"GET without a token", http.MethodGet, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+"/mcp", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			status, h, body := send(t, req)
			if status != http.StatusUnauthorized {
				t.Fatalf("status %d %s, want 401", status, body)
			}
			// require_proof is on: a DPoP challenge (RFC 9449 §7.1).
			want := `DPoP algs="EdDSA ES256", resource_metadata="` + base + `/.well-known/oauth-protected-resource/mcp"`
			if got := h.Get("WWW-Authenticate"); got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			recs := auditRecords(t, dir)
			last := recs[len(recs)-1]
			if last.FailedRule != "identity" || last.Method != tt.want {
				t.Errorf("audit record method = %q (rule %q), want %q", last.Method, last.FailedRule, tt.want)
			}
		})
	}
}
