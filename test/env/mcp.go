package env

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// MCP servers installed from tools/mcp/package.json (pinned, with lockfile).
const (
	MCPFilesystem = "server-filesystem"
	MCPEverything = "server-everything"
)

// MCPServerCommand returns the command line (node and arguments) that runs
// the official MCP server name ("server-filesystem" or "server-everything")
// with args, e.g. MCPServerCommand(t, MCPFilesystem, rootDir) or
// MCPServerCommand(t, MCPEverything, "stdio").
func MCPServerCommand(t testing.TB, name string, args ...string) []string {
	t.Helper()
	skipShort(t, "node and the MCP servers")
	cmd, err := mcpServerCommand(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

func mcpServerCommand(name string, args ...string) ([]string, error) {
	node := os.Getenv("NODE")
	if node == "" {
		node = "node"
	}
	nodePath, err := exec.LookPath(node)
	if err != nil {
		return nil, fmt.Errorf("node not found: install Node.js 20+ (Debian: apt-get install -y nodejs) or set NODE")
	}
	dir := os.Getenv("MCP_SERVERS_DIR")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(root, "tools", "mcp", "node_modules")
	}
	entry := filepath.Join(dir, "@modelcontextprotocol", name, "dist", "index.js")
	if _, err := os.Stat(entry); err != nil {
		return nil, fmt.Errorf("MCP server %s not installed at %s: run `make tools` (npm ci in tools/mcp) or set MCP_SERVERS_DIR", name, entry)
	}
	return append([]string{nodePath, entry}, args...), nil
}

// MCPServerHTTP starts server-everything in Streamable HTTP mode on a free
// port and returns its endpoint URL (http://127.0.0.1:PORT/mcp). The server
// is stopped when t ends.
func MCPServerHTTP(t testing.TB) string {
	t.Helper()
	cmd := MCPServerCommand(t, MCPEverything, "streamableHttp")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := startProcess("server-everything", dir, []string{"PORT=" + itoa(port)}, cmd[0], cmd[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	printLogsOnFailure(t, p)
	if err := waitFor(p, 20*time.Second, func() error { return dialTCP(port) }); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
}
