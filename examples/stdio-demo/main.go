// Command stdio-demo is the scripted agent of `make demo`: it talks to the
// real @modelcontextprotocol/server-filesystem through `aip-enforcer stdio`
// with the official MCP Go SDK client, narrates each step and prints a
// summary table.
//
//	stdio-demo -enforcer bin/aip-enforcer -policy P -audit A -root DIR -home HOME -- node server-filesystem/dist/index.js DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type step struct {
	title   string
	tool    string
	args    map[string]any
	want    string // "allow", "redacted", or an error code such as "-32001"
	outcome string
	ok      bool
	elapsed time.Duration
}

func main() {
	enforcer := flag.String("enforcer", "bin/aip-enforcer", "aip-enforcer binary")
	policy := flag.String("policy", "", "policy file")
	audit := flag.String("audit", "", "audit log file")
	root := flag.String("root", "", "the project directory the server exposes")
	home := flag.String("home", "", "HOME for the enforcer (where ~ expands)")
	flag.Parse()
	if *policy == "" || *root == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: stdio-demo -policy P -audit A -root DIR [-home H] -- SERVER-COMMAND...")
		os.Exit(2)
	}
	if err := run(*enforcer, *policy, *audit, *root, *home, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(enforcer, policy, audit, root, home string, server []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	args := append([]string{"stdio", "--policy", policy, "--audit", audit, "--approver-cmd", "exit 1", "--"}, server...)
	cmd := exec.CommandContext(ctx, enforcer, args...)
	cmd.Stderr = os.Stderr
	if home != "" {
		cmd.Env = append(os.Environ(), "HOME="+home)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "aip-demo-agent", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		return fmt.Errorf("connect through aip-enforcer: %w", err)
	}
	defer session.Close()

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	var names []string
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	fmt.Printf("   the agent sees %d tools; move_file is hidden: %v\n", len(names), !slices.Contains(names, "move_file"))

	steps := []*step{
		{title: "allowed read", tool: "read_text_file", args: map[string]any{"path": filepath.Join(root, "README.md")}, want: "allow"},
		{title: "denied tool (block rule)", tool: "move_file", args: map[string]any{"source": filepath.Join(root, "README.md"), "destination": "/tmp/x"}, want: "-32001"},
		{title: "argument violation", tool: "write_file", args: map[string]any{"path": "/tmp/outside.txt", "content": "hi"}, want: "-32001"},
		{title: "protected path", tool: "read_text_file", args: map[string]any{"path": "~/.ssh/id_ed25519"}, want: "-32007"},
		{title: "ask rule, approver says no", tool: "edit_file", args: map[string]any{"path": filepath.Join(root, "README.md"), "edits": []any{}}, want: "-32004"},
		{title: "DLP redaction", tool: "read_text_file", args: map[string]any{"path": filepath.Join(root, "config.env.txt")}, want: "redacted"},
	}
	for i, s := range steps {
		fmt.Printf("\n%d. %s: tools/call %s\n", i+1, s.title, s.tool)
		start := time.Now()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: s.tool, Arguments: s.args})
		s.elapsed = time.Since(start)
		s.outcome, s.ok = judge(s.want, res, err)
		fmt.Printf("   -> %s\n", s.outcome)
	}

	fmt.Printf("\n%-28s %-10s %-8s %s\n", "scenario", "expected", "result", "outcome")
	failed := 0
	for _, s := range steps {
		mark := "PASS"
		if !s.ok {
			mark = "FAIL"
			failed++
		}
		fmt.Printf("%-28s %-10s %-8s %s (%v)\n", s.title, s.want, mark, firstLine(s.outcome), s.elapsed.Round(time.Microsecond))
	}
	if failed > 0 {
		return fmt.Errorf("%d scenario(s) did not behave as expected", failed)
	}
	return nil
}

func judge(want string, res *mcp.CallToolResult, err error) (string, bool) {
	var rpcErr *jsonrpc.Error
	if errors.As(err, &rpcErr) {
		out := fmt.Sprintf("denied %d %q %s", rpcErr.Code, rpcErr.Message, rpcErr.Data)
		return out, want == fmt.Sprint(rpcErr.Code)
	}
	// The Go SDK reads -32004 (AIP "User denied") as its own "server is
	// closing" code and flattens it into ErrConnectionClosed; the session
	// stays usable. Recognise the AIP message.
	if errors.Is(err, mcp.ErrConnectionClosed) && strings.Contains(err.Error(), "User denied") {
		return "denied -32004 \"User denied\" (the Go SDK reports it as connection closed)", want == "-32004"
	}
	if err != nil {
		return "error: " + err.Error(), false
	}
	var text []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			text = append(text, t.Text)
		}
	}
	body := strings.Join(text, " ")
	switch want {
	case "allow":
		return "allowed: " + firstLine(body), !res.IsError
	case "redacted":
		return "allowed, redacted: " + firstLine(body), strings.Contains(body, "[REDACTED:")
	}
	return "allowed (unexpected): " + firstLine(body), false
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
