package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdkjsonrpc "github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

const fakeAWSKey = "AKIAZ7QXW3JH5NB2LMKD"

const stdioPolicy = `apiVersion: aip.io/v1alpha2
kind: AgentPolicy
metadata:
  name: e2e-filesystem
spec:
  allowed_tools: [read_text_file, list_allowed_directories]
  tool_rules:
    - tool: write_file
      action: allow
    - tool: move_file
      action: block
    - tool: create_directory
      action: ask
  protected_paths:
    - ROOT/private
  dlp:
    patterns:
      - name: aws_access_key
        regex: "AKIA[0-9A-Z]{16}"
`

// stdioFixture is a filesystem root, a policy and the built enforcer.
type stdioFixture struct {
	root, policy, bin string
	server            []string
}

func newStdioFixture(t *testing.T, bin string) stdioFixture {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	server := env.MCPServerCommand(t, env.MCPFilesystem, root)
	for name, body := range map[string]string{
		"hello.txt":        "hello from aip",
		"creds.txt":        "aws_access_key_id = " + fakeAWSKey + "\n",
		"private/note.txt": "do not touch",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(strings.ReplaceAll(stdioPolicy, "ROOT", root)), 0o600); err != nil {
		t.Fatal(err)
	}
	return stdioFixture{root: root, policy: pol, bin: bin, server: server}
}

func buildEnforcer(t *testing.T) string {
	t.Helper()
	return filepath.Join(stacktest.BuildCommands(t, "aip-enforcer"), "aip-enforcer")
}

// connect starts the enforcer with extra flags in front of the filesystem
// server and connects the official MCP client to it.
func (f stdioFixture) connect(t *testing.T, ctx context.Context, flags ...string) *mcp.ClientSession {
	t.Helper()
	args := append([]string{"stdio", "--policy", f.policy}, flags...)
	args = append(append(args, "--"), f.server...)
	cmd := exec.Command(f.bin, args...)
	stacktest.CaptureStderr(t, cmd) // logged after the session is closed
	client := mcp.NewClient(&mcp.Implementation{Name: "aip-stdio-e2e", Version: "0"}, nil)
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect through aip-enforcer: %v", err)
	}
	t.Cleanup(func() { _ = session.Close() })
	return session
}

// TestStdioEnforcer runs the official MCP Go SDK client against
// server-filesystem through the built aip-enforcer binary.
func TestStdioEnforcer(t *testing.T) {
	env.MCPServerCommand(t, env.MCPFilesystem) // skips under -short
	bin := buildEnforcer(t)
	t.Run("filesystem", func(t *testing.T) { testStdioFilesystem(t, bin) })
	t.Run("approval timeout", func(t *testing.T) { testStdioApprovalTimeout(t, bin) })
	t.Run("refuses without a valid policy", func(t *testing.T) { testStdioRefusesWithoutPolicy(t, bin) })
}

func testStdioFilesystem(t *testing.T, bin string) {
	f := newStdioFixture(t, bin)
	auditPath := filepath.Join(t.TempDir(), "audit.jsonl")
	approver := filepath.Join(t.TempDir(), "approve.sh")
	// Approves only calls whose request JSON names "approved-dir".
	if err := os.WriteFile(approver, []byte("#!/bin/sh\ngrep -q approved-dir\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := f.connect(t, ctx, "--audit", auditPath, "--approver-cmd", approver)

	t.Run("tools/list is filtered", func(t *testing.T) {
		res, err := s.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		for _, want := range []string{"read_text_file", "write_file", "create_directory"} {
			if !slices.Contains(names, want) {
				t.Errorf("tools/list lacks allowed tool %q: %v", want, names)
			}
		}
		for _, hidden := range []string{"move_file", "directory_tree", "edit_file"} {
			if slices.Contains(names, hidden) {
				t.Errorf("tools/list shows %q, which the policy always blocks", hidden)
			}
		}
	})

	tests := []struct {
		name     string
		tool     string
		args     map[string]any
		wantCode int64  // 0: success
		wantText string // in the result text when successful
		notText  string
	}{
		{name: "allowed read", tool: "read_text_file", args: map[string]any{"path": filepath.Join(f.root, "hello.txt")}, wantText: "hello from aip"},
		{name: "secret redacted", tool: "read_text_file", args: map[string]any{"path": filepath.Join(f.root, "creds.txt")},
			wantText: "[REDACTED:aws_access_key]", notText: fakeAWSKey},
		{name: "write under protected path", tool: "write_file",
			args: map[string]any{"path": filepath.Join(f.root, "private", "x.txt"), "content": "x"}, wantCode: -32007},
		{name: "read of protected path via dot-dot", tool: "read_text_file",
			args: map[string]any{"path": f.root + "/sub/../private/note.txt"}, wantCode: -32007},
		{name: "blocked tool", tool: "move_file",
			args: map[string]any{"source": filepath.Join(f.root, "hello.txt"), "destination": filepath.Join(f.root, "moved.txt")}, wantCode: -32001},
		{name: "tool not allowed", tool: "directory_tree", args: map[string]any{"path": f.root}, wantCode: -32001},
		{name: "ask approved", tool: "create_directory", args: map[string]any{"path": filepath.Join(f.root, "approved-dir")}, wantText: "Successfully created"},
		{name: "ask denied", tool: "create_directory", args: map[string]any{"path": filepath.Join(f.root, "other-dir")}, wantCode: -32004},
		{name: "allowed write", tool: "write_file", args: map[string]any{"path": filepath.Join(f.root, "out.txt"), "content": "ok"}, wantText: "Successfully wrote"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
			if tc.wantCode != 0 {
				checkCode(t, res, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			text := resultText(res)
			if res.IsError || !strings.Contains(text, tc.wantText) {
				t.Fatalf("result %q (isError %v); want it to contain %q", text, res.IsError, tc.wantText)
			}
			if tc.notText != "" && strings.Contains(text, tc.notText) {
				t.Fatalf("result %q still contains %q", text, tc.notText)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(f.root, "other-dir")); !os.IsNotExist(err) {
		t.Errorf("a denied ask reached the server: other-dir exists (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(f.root, "private", "x.txt")); !os.IsNotExist(err) {
		t.Errorf("a write under a protected path reached the server (stat: %v)", err)
	}

	_ = s.Close()
	checkAudit(t, auditPath)
}

func testStdioApprovalTimeout(t *testing.T, bin string) {
	f := newStdioFixture(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := f.connect(t, ctx, "--approver-cmd", "sleep 30", "--approval-timeout", "300ms")
	start := time.Now()
	_, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "create_directory", Arguments: map[string]any{"path": filepath.Join(f.root, "d")}})
	var werr *sdkjsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != -32005 {
		t.Fatalf("err %v; want -32005 User approval timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func testStdioRefusesWithoutPolicy(t *testing.T, bin string) {
	f := newStdioFixture(t, bin)
	if err := os.WriteFile(f.policy, []byte("apiVersion: aip.io/v1alpha1\nkind: AgentPolicy\nspec: {bogus: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "started")
	cmd := exec.Command(f.bin, "stdio", "--policy", f.policy, "--", "sh", "-c", "touch "+marker)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("enforcer started with an invalid policy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "spec.bogus") {
		t.Errorf("error does not name the bad key: %s", out)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Error("the MCP server was started without a valid policy")
	}
}
