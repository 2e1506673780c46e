package aipcmd

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
)

const approversSecret = "approvers-secret-0123456789abcdef"

// approvalsAPI serves a real approvals API with a Gate asking its queue.
func approvalsAPI(t *testing.T) (*approval.Gate, string) {
	t.Helper()
	q := approval.NewQueue(approval.QueueConfig{})
	srv := httptest.NewServer(approval.NewAPI(approval.APIConfig{Queue: q, Approvers: approval.NewApprovers(nil, approversSecret)}))
	t.Cleanup(srv.Close)
	return approval.NewGate(approval.GateConfig{Approver: q, Timeout: 5 * time.Second}), srv.URL
}

// runApprovals runs `aip ARGS...`, failing if stderr holds the secret.
func runApprovals(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return (&testIssuer{adminToken: approversSecret}).run(t, args...)
}

// aip approvals list|approve|deny settle the calls a Gate waits on.
func TestApprovalsCommands(t *testing.T) {
	tests := []struct {
		name     string
		decision string
		want     approval.Outcome
	}{
		{"approve", "approve", approval.Approved},
		{"deny", "deny", approval.Denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate, url := approvalsAPI(t)
			tokenFile := writeFile(t, t.TempDir(), "approvers.token", approversSecret+"\n", 0o600)
			flags := []string{"--enforcer", url, "--token-file", tokenFile}
			outcome := make(chan approval.Outcome, 1)
			go func() {
				outcome <- gate.Ask(context.Background(), approval.Request{Tool: "deploy", Arguments: json.RawMessage(`{"env":"prod"}`),
					ArgsSHA256: "abc123", PolicyHash: "p", Agent: "agent-1", User: "carol"})
			}()
			var pending []approval.Pending
			for deadline := time.Now().Add(5 * time.Second); len(pending) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				code, out, errOut := runApprovals(t, append([]string{"approvals", "list", "--output", "json"}, flags...)...)
				if err := json.Unmarshal([]byte(out), &pending); code != 0 || err != nil {
					t.Fatalf("list: exit %d %q %q", code, out, errOut)
				}
			}
			if len(pending) != 1 || pending[0].Tool != "deploy" || pending[0].AgentID != "agent-1" || pending[0].Arguments != nil {
				t.Fatalf("pending %+v", pending)
			}
			code, out, _ := runApprovals(t, append([]string{"approvals", "list"}, flags...)...)
			if code != 0 || !strings.Contains(out, pending[0].ID) || !strings.Contains(out, "abc123") || !strings.Contains(out, "carol") {
				t.Fatalf("list table: exit %d %q", code, out)
			}
			code, out, errOut := runApprovals(t, append([]string{"approvals", tt.decision}, append(flags, pending[0].ID)...)...)
			if code != 0 || out != pending[0].ID+": "+tt.decision+"\n" {
				t.Fatalf("%s: exit %d %q %q", tt.decision, code, out, errOut)
			}
			select {
			case got := <-outcome:
				if got != tt.want {
					t.Fatalf("outcome %v, want %v", got, tt.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the call was not settled")
			}
			code, _, errOut = runApprovals(t, append([]string{"approvals", tt.decision}, append(flags, pending[0].ID)...)...)
			if code != 1 || !strings.Contains(errOut, "404 not_found") {
				t.Fatalf("settling twice: exit %d %q", code, errOut)
			}
		})
	}
}

func TestApprovalsCommandErrors(t *testing.T) {
	_, url := approvalsAPI(t)
	dir := t.TempDir()
	wrong := writeFile(t, dir, "wrong.token", "not-the-secret", 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no credential", []string{"approvals", "list", "--enforcer", url}, 1, "401 unauthorized"},
		{"wrong secret", []string{"approvals", "list", "--enforcer", url, "--token-file", wrong}, 1, "401 unauthorized"},
		{"missing token file", []string{"approvals", "list", "--enforcer", url, "--token-file", filepath.Join(dir, "none")}, 1, "--token-file"},
		{"approve without an id", []string{"approvals", "approve", "--enforcer", url}, 2, "exactly one approval ID"},
		{"cert without key", []string{"approvals", "list", "--enforcer", url, "--cert", "c.pem"}, 2, "--cert and --cert-key go together"},
		{"bad url", []string{"approvals", "list", "--enforcer", "ftp://x"}, 2, "want an http(s) URL"},
		{"bad output", []string{"approvals", "list", "--enforcer", url, "--output", "yaml"}, 2, "--output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runApprovals(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d %q; want %d and %q", code, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}
