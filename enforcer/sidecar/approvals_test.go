package sidecar_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/identity/aat"
)

const approverSecret = "s3cret-of-the-approvers-0123456789"

// approvalsSidecar starts a sidecar with decidePolicy and approvals over
// HTTP for the holders of approverSecret.
func approvalsSidecar(t *testing.T, fi *fakeIssuer, up, timeout string) string {
	t.Helper()
	dir := t.TempDir()
	secret := filepath.Join(dir, "approvers.token")
	if err := os.WriteFile(secret, []byte(approverSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return sidecarIn(t, dir, fi, fmt.Sprintf("{url: %q}", up+"/mcp"), decidePolicy,
		fmt.Sprintf("approvals: {approvers: {bearer_token_file: %q}, timeout: %s}", secret, timeout))
}

func approvalsCall(t *testing.T, method, url, secret, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	status, _, b := send(t, req)
	return status, b
}

// waitPending polls GET /v1/approvals until one approval is pending.
func waitPending(t *testing.T, base string) approval.Pending {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		status, body := approvalsCall(t, http.MethodGet, base+"/v1/approvals", approverSecret, "")
		var l approval.List
		if err := json.Unmarshal(body, &l); status != 200 || err != nil {
			t.Fatalf("list: %d %s", status, body)
		}
		if len(l.Approvals) == 1 {
			return l.Approvals[0]
		}
	}
	t.Fatal("no approval became pending")
	return approval.Pending{}
}

// An ask call waits for an approver's decision over HTTP without holding
// up other calls; approve forwards it, deny and the timeout refuse it.
func TestApprovalsOverHTTP(t *testing.T) {
	tests := []struct {
		name     string
		decision string // "": nobody answers
		wantCode int    // 0: forwarded
	}{
		{"approved", approval.DecisionApprove, 0},
		{"denied", approval.DecisionDeny, -32004},
		{"timed out", "", -32005},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi := newFakeIssuer(t)
			up := newUpstream(t, false)
			base := approvalsSidecar(t, fi, up.URL, "1s")
			k := agentKey(t)
			tok := fi.mint(t, k, func(c *aat.Claims) { c.Capabilities.Tools = []string{"echo", "deploy"} })
			deploy := strings.Replace(callEcho, `"echo","arguments":{"message":"hi"}`, `"deploy","arguments":{"env":"prod"}`, 1)
			done := make(chan []byte, 1)
			ask := request(t, base+"/mcp", deploy, tok, k)
			go func() {
				resp, err := http.DefaultClient.Do(ask)
				if err != nil {
					done <- []byte(err.Error())
					return
				}
				defer func() { _ = resp.Body.Close() }()
				b, _ := io.ReadAll(resp.Body)
				done <- b
			}()
			p := waitPending(t, base)
			if p.Tool != "deploy" || p.AgentID != "agent-1" || p.UserID != "carol" || len(p.ArgsSHA256) != 64 || p.Arguments != nil || !p.ExpiresAt.After(p.RequestedAt) {
				t.Fatalf("pending %+v", p)
			}
			// Another call goes through while the ask waits.
			if status, _, body := send(t, request(t, base+"/mcp", callEcho, tok, k)); status != 200 || strings.Contains(string(body), "error") {
				t.Fatalf("a call was held up by a pending approval: %d %s", status, body)
			}
			if tt.decision != "" {
				status, body := approvalsCall(t, http.MethodPost, base+"/v1/approvals/"+p.ID, approverSecret, `{"decision":"`+tt.decision+`"}`)
				if status != 200 {
					t.Fatalf("settle: %d %s", status, body)
				}
			}
			var got []byte
			select {
			case got = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the call never ended")
			}
			var resp struct {
				Error *rpcError `json:"error"`
			}
			if err := json.Unmarshal(got, &resp); err != nil {
				t.Fatalf("response %s: %v", got, err)
			}
			switch {
			case tt.wantCode == 0 && resp.Error != nil:
				t.Fatalf("approved call refused: %s", got)
			case tt.wantCode != 0 && (resp.Error == nil || resp.Error.Code != tt.wantCode):
				t.Fatalf("response %s, want code %d", got, tt.wantCode)
			}
			if status, _ := approvalsCall(t, http.MethodPost, base+"/v1/approvals/"+p.ID, approverSecret, `{"decision":"approve"}`); status != 404 {
				t.Fatalf("settling a settled approval: %d, want 404", status)
			}
		})
	}
}

// Only approvers may list or settle approvals.
func TestApprovalsAPIRefusesOthers(t *testing.T) {
	fi := newFakeIssuer(t)
	base := approvalsSidecar(t, fi, newUpstream(t, false).URL, "1s")
	tok := fi.mint(t, agentKey(t), nil)
	tests := []struct {
		name, method, path, secret, body string
		status                           int
	}{
		{"list without a secret", http.MethodGet, "/v1/approvals", "", "", 401},
		{"list with a wrong secret", http.MethodGet, "/v1/approvals", approverSecret + "x", "", 401},
		{"list with an agent's token", http.MethodGet, "/v1/approvals", tok, "", 401},
		{"settle without a secret", http.MethodPost, "/v1/approvals/x", "", `{"decision":"approve"}`, 401},
		{"list as an approver", http.MethodGet, "/v1/approvals", approverSecret, "", 200},
		{"settle an unknown id", http.MethodPost, "/v1/approvals/x", approverSecret, `{"decision":"approve"}`, 404},
		{"settle with a bad decision", http.MethodPost, "/v1/approvals/x", approverSecret, `{"decision":"yes"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := approvalsCall(t, tt.method, base+tt.path, tt.secret, tt.body); status != tt.status {
				t.Fatalf("%d %s, want %d", status, body, tt.status)
			}
		})
	}
}

func TestApprovalsConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(good, []byte(approverSecret), 0o600)
	_ = os.WriteFile(short, []byte("abc"), 0o600)
	const head = "listen: 127.0.0.1:1\nupstream: {url: http://127.0.0.1:2/mcp}\npolicy: {path: p}\naudience: a\nissuers: [{issuer: https://i.test}]\n"
	plain := head + "tls: {mode: plain}\n"
	spiffe := head + "tls: {mode: spiffe, workload_api_addr: unix:///x, trust_domains: [example.org]}\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"plain with a bearer file", plain + "approvals: {approvers: {bearer_token_file: " + good + "}}", ""},
		{"spiffe with approver ids", spiffe + "approvals: {approvers: {spiffe_ids: [spiffe://example.org/ops/alice]}, webhook_url: https://hooks.test/x}", ""},
		{"plain without a bearer file", plain + "approvals: {timeout: 10s}", "approvals.approvers.bearer_token_file: is required"},
		{"short secret", plain + "approvals: {approvers: {bearer_token_file: " + short + "}}", "at least 16 characters"},
		{"spiffe ids in plain mode", plain + "approvals: {approvers: {bearer_token_file: " + good + ", spiffe_ids: [spiffe://example.org/a]}}", "approvals.approvers.spiffe_ids: applies to tls.mode spiffe only"},
		{"spiffe without ids", spiffe + "approvals: {}", "approvals.approvers.spiffe_ids: at least one"},
		{"bad spiffe id", spiffe + "approvals: {approvers: {spiffe_ids: [alice]}}", "approvals.approvers.spiffe_ids[0]"},
		{"bad webhook", plain + "approvals: {approvers: {bearer_token_file: " + good + "}, webhook_url: ftp://x}", "approvals.webhook_url"},
		{"bad timeout", plain + "approvals: {approvers: {bearer_token_file: " + good + "}, timeout: 10ms}", "approvals.timeout"},
		{"unknown key", plain + "approvals: {approver: {}}", "approvals.approver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := sidecar.Parse([]byte(tt.yaml))
			if tt.wantErr == "" {
				if err != nil || c.Approvals == nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), approverSecret) {
				t.Fatal("the approvers' secret leaked into an error")
			}
		})
	}
}
