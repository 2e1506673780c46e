package sidecar_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/audit"
)

// auditRecords reads the audit log of a sidecar started by sidecarIn.
func auditRecords(t *testing.T, dir string) []audit.Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte("\n")) {
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("audit line %s: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func withIDs(c *aat.Claims) { c.ID, c.SessionID = "jti-1", "sess-1" }

// Every audit record of an authenticated request names its caller: the
// allowed call (upstream), the redaction of its result (downstream), and
// a refusal by the policy.
func TestAuditRecordsCarryTheCaller(t *testing.T) {
	fi := newFakeIssuer(t)
	up := newUpstream(t, false)
	dir := t.TempDir()
	base := sidecarIn(t, dir, fi, fmt.Sprintf("{url: %q}", up.URL+"/mcp"), policyYAML, "")
	k := agentKey(t)
	tok := fi.mint(t, k, func(c *aat.Claims) {
		withIDs(c)
		c.Capabilities.Tools = append(c.Capabilities.Tools, "not_in_policy")
	})
	if status, _, body := send(t, request(t, base+"/mcp", callEcho, tok, k)); status != 200 {
		t.Fatalf("allowed call: %d %s", status, body)
	}
	denied := strings.Replace(callEcho, `"echo"`, `"not_in_policy"`, 1)
	if status, _, body := send(t, request(t, base+"/mcp", denied, tok, k)); status != 200 || !strings.Contains(string(body), `"code":-32001`) {
		t.Fatalf("call outside the policy: %d %s", status, body)
	}

	recs := auditRecords(t, dir)
	tests := []struct {
		name      string
		direction string
		decision  audit.Decision
		tool      string
	}{
		{"allowed call", audit.Upstream, audit.Allow, "echo"},
		{"redacted result", audit.Downstream, audit.Allow, "echo"},
		{"refused by the policy", audit.Upstream, audit.Block, "not_in_policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range recs {
				if r.Direction != tt.direction || r.Decision != tt.decision || r.Tool != tt.tool {
					continue
				}
				if r.AgentID != "agent-1" || r.UserID != "carol" || r.AATJTI != "jti-1" || r.SessionID != "sess-1" || r.Issuer != fi.URL {
					t.Fatalf("record %+v does not name the caller", r)
				}
				return
			}
			t.Fatalf("no %s %s record for %s in %+v", tt.direction, tt.decision, tt.tool, recs)
		})
	}
}

// tools/list shows only the tools both the policy and the token allow.
func TestToolsListHidesToolsTheTokenDoesNotGrant(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			ID json.RawMessage `json:"id"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"echo"},{"name":"add"},{"name":"blocked_by_caps"}]}}`, m.ID)
	}))
	t.Cleanup(up.Close)
	fi := newFakeIssuer(t)
	base := sidecarUnder(t, fi, up.URL, "")
	k := agentKey(t)
	const list = `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`
	tests := []struct {
		name  string
		grant []string
		want  []string
	}{
		{"token grants some", []string{"echo", "add"}, []string{"echo", "add"}},
		{"token grants one", []string{"add"}, []string{"add"}},
		{"token grants none", nil, []string{}},
		{"token grants all", []string{"echo", "add", "blocked_by_caps"}, []string{"echo", "add", "blocked_by_caps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := fi.mint(t, k, func(c *aat.Claims) { c.Capabilities.Tools = tt.grant })
			status, _, body := send(t, request(t, base+"/mcp", list, tok, k))
			var resp struct {
				Result struct {
					Tools []struct {
						Name string `json:"name"`
					} `json:"tools"`
				} `json:"result"`
			}
			if err := json.Unmarshal(body, &resp); status != 200 || err != nil {
				t.Fatalf("status %d %s: %v", status, body, err)
			}
			got := []string{}
			for _, tool := range resp.Result.Tools {
				got = append(got, tool.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("tools %v, want %v", got, tt.want)
			}
		})
	}
}
