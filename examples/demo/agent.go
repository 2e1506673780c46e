package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/identity/agent"
)

// agentFlags configure `demo agent`.
type agentFlags struct {
	issuer, endpoint, keyFile, user, root string
	aip, adminSocket, agentID             string
	enforcerAudit, issuerAudit, stepsFile string
}

// row is one line of the summary table.
type row struct {
	scenario, expected, result, detail string
}

func runAgent(args []string) error {
	var f agentFlags
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.StringVar(&f.issuer, "issuer", "", "issuer `URL`")
	fs.StringVar(&f.endpoint, "mcp", "", "the enforcer's MCP endpoint `URL` (also the AAT audience)")
	fs.StringVar(&f.keyFile, "key", "", "the agent's native key `FILE`")
	fs.StringVar(&f.user, "user", "", "the local `USER` the agent acts for")
	fs.StringVar(&f.root, "root", "", "the project `DIR` server-filesystem exposes")
	fs.StringVar(&f.aip, "aip", "bin/aip", "the aip CLI")
	fs.StringVar(&f.adminSocket, "admin-socket", "", "the issuer's admin socket `PATH` (for aip revoke)")
	fs.StringVar(&f.agentID, "agent-id", "", "the agent's registered `ID`")
	fs.StringVar(&f.enforcerAudit, "enforcer-audit", "", "the enforcer's audit log")
	fs.StringVar(&f.issuerAudit, "issuer-audit", "", "the issuer's audit log")
	fs.StringVar(&f.stepsFile, "steps-file", "", "rows (scenario TAB expected TAB result TAB detail) from the setup, for the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := readSteps(f.stepsFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	d, err := connect(ctx, f)
	if err == nil {
		defer func() { _ = d.session.Close() }()
		rows = append(rows, d.scenarios(ctx, f)...)
	} else {
		rows = append(rows, row{"connect through the enforcer", "session", "FAIL", err.Error()})
	}
	rows = append(rows, auditVerify(ctx, f.aip, "enforcer audit log verified", f.enforcerAudit))
	rows = append(rows, auditVerify(ctx, f.aip, "issuer audit log verified", f.issuerAudit))
	return printTable(rows)
}

// demoAgent is the connected agent.
type demoAgent struct {
	tr      *agent.Transport
	rec     *recorder
	session *mcp.ClientSession
}

// connect builds the agent SDK transport (native key, local user) under
// the MCP Go SDK's StreamableClientTransport and opens a session.
func connect(ctx context.Context, f agentFlags) (*demoAgent, error) {
	key, err := agent.LoadKeyFile(f.keyFile)
	if err != nil {
		return nil, err
	}
	rec := newRecorder()
	// The SDK logs each AAT it obtains by jti (never the token itself).
	log := slog.New(slog.NewTextHandler(prefixWriter{os.Stdout}, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
			return slog.Attr{}
		}
		return a
	}}))
	tr, err := agent.New(agent.Config{IssuerURL: f.issuer, Audience: f.endpoint, Key: key, LocalUser: f.user,
		Base: rec, Logger: log.With("sdk", "identity/agent")})
	if err != nil {
		return nil, err
	}
	say("the agent connects: MCP Go SDK StreamableClientTransport over identity/agent (key %s)", tr.Thumbprint())
	client := mcp.NewClient(&mcp.Implementation{Name: "aip-demo-agent", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: f.endpoint, HTTPClient: tr.Client(),
		DisableStandaloneSSE: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", f.endpoint, err)
	}
	return &demoAgent{tr: tr, rec: rec, session: session}, nil
}

// scenarios runs the calls in order and returns their rows.
func (d *demoAgent) scenarios(ctx context.Context, f agentFlags) []row {
	rows := d.listTools(ctx)
	rows = append(rows, d.runCalls(ctx, fileCalls(f.root))...)
	rows = append(rows, d.replay(ctx, "replay refused", d.rec.base))
	rows = append(rows, d.revocation(ctx, f, filepath.Join(f.root, "README.md")))
	return rows
}

// listTools shows what tools/list gives the agent: the policy hides the
// blocked tools. It returns a row only when the call fails.
func (d *demoAgent) listTools(ctx context.Context) []row {
	tools, err := d.session.ListTools(ctx, nil)
	if err != nil {
		return []row{{"tools/list", "filtered list", "FAIL", err.Error()}}
	}
	var names []string
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	say("tools/list: the agent sees %d tools; move_file (blocked by the policy) is hidden: %v", len(names), !slices.Contains(names, "move_file"))
	return nil
}

// call is one tools/call scenario: want is "allow", "redacted" or an AIP
// error code; record keeps the request for the replay.
type call struct {
	title, tool string
	args        map[string]any
	want        string
	record      bool
}

// fileCalls are the server-filesystem scenarios against the project root
// (examples/policies/filesystem.yaml with a DLP pattern, an agent granted
// read_text_file, list_allowed_directories, write_file, move_file,
// edit_file).
func fileCalls(root string) []call {
	readme := filepath.Join(root, "README.md")
	return []call{
		{"allowed read", "read_text_file", map[string]any{"path": readme}, "allow", true},
		{"denied tool (policy block)", "move_file", map[string]any{"source": readme, "destination": filepath.Join(root, "moved.md")}, "-32001", false},
		{"argument violation", "write_file", map[string]any{"path": "/tmp/outside.txt", "content": "hi"}, "-32001", false},
		{"protected path", "read_text_file", map[string]any{"path": "~/.ssh/id_ed25519"}, "-32007", false},
		{"tool outside the AAT", "list_directory", map[string]any{"path": root}, "-32017", false},
		{"DLP redaction", "read_text_file", map[string]any{"path": filepath.Join(root, "config.env.txt")}, "redacted", false},
	}
}

// runCalls makes each call in order and returns their rows.
func (d *demoAgent) runCalls(ctx context.Context, calls []call) []row {
	var rows []row
	for _, c := range calls {
		say("%s: tools/call %s %s", c.title, c.tool, argsLine(c.args))
		d.rec.arm(c.record)
		res, err := d.session.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		d.rec.arm(false)
		detail, ok := judge(c.want, res, err)
		fmt.Printf("   -> %s\n", detail)
		rows = append(rows, newRow(c.title, c.want, ok, detail))
	}
	return rows
}

// judge checks a call's outcome against want: "allow", "redacted" or an
// AIP error code.
func judge(want string, res *mcp.CallToolResult, err error) (string, bool) {
	var rpcErr *jsonrpc.Error
	if errors.As(err, &rpcErr) {
		return fmt.Sprintf("refused %d %s: %s", rpcErr.Code, rpcErr.Message, reasonOf(rpcErr.Data)), want == fmt.Sprint(rpcErr.Code)
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
		return "allowed: " + clip(body), !res.IsError
	case "redacted":
		shown := body
		if i := strings.Index(body, "[REDACTED:"); i >= 0 {
			shown = body[max(0, strings.LastIndexAny(body[:i], "\n")+1):]
		}
		return "allowed, redacted: " + clip(shown), strings.Contains(body, "[REDACTED:") && !strings.Contains(body, "AKIA")
	}
	return "allowed (unexpected): " + clip(body), false
}

// revocation revokes the agent with `aip revoke` and measures the time
// from the command's return to the first call the enforcer refuses.
func (d *demoAgent) revocation(ctx context.Context, f agentFlags, path string) row {
	const title, want = "revocation enforced", "-32011"
	say("revocation: aip revoke --agent %s, then the agent keeps calling read_text_file", f.agentID)
	cmd := exec.CommandContext(ctx, f.aip, "revoke", "--issuer", f.issuer, "--admin-socket", f.adminSocket, //nolint:gosec // the demo's own CLI
		"--agent", f.agentID, "--reason", "make demo: revocation scenario")
	out, err := cmd.CombinedOutput()
	revoked := time.Now()
	if err != nil {
		return newRow(title, want, false, fmt.Sprintf("aip revoke failed: %v: %s", err, clip(string(out))))
	}
	fmt.Print(indent(string(out)))
	allowed := 0
	for time.Since(revoked) < 10*time.Second {
		_, err := d.session.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": path}})
		var rpcErr *jsonrpc.Error
		switch {
		case err == nil:
			allowed++
			time.Sleep(2 * time.Millisecond)
			continue
		case errors.As(err, &rpcErr):
			took := time.Since(revoked)
			detail := fmt.Sprintf("refused %d %s after the revoke returned (%d call(s) allowed meanwhile): %s",
				rpcErr.Code, took.Round(time.Millisecond), allowed, reasonOf(rpcErr.Data))
			fmt.Printf("   -> %s\n", detail)
			return newRow(title, want, fmt.Sprint(rpcErr.Code) == want, detail)
		default:
			return newRow(title, want, false, "error: "+err.Error())
		}
	}
	return newRow(title, want, false, fmt.Sprintf("still allowed %s after the revocation (%d calls)", time.Since(revoked).Round(time.Millisecond), allowed))
}

// auditVerify runs `aip audit verify` on a log.
func auditVerify(ctx context.Context, aip, title, path string) row {
	say("%s: aip audit verify %s", title, path)
	out, err := exec.CommandContext(ctx, aip, "audit", "verify", path).CombinedOutput() //nolint:gosec // the demo's own CLI and files
	fmt.Print(indent(string(out)))
	detail := firstLine(strings.TrimSpace(string(out)))
	if err != nil {
		return newRow(title, "chain intact", false, fmt.Sprintf("%v: %s", err, detail))
	}
	return newRow(title, "chain intact", true, detail)
}

func newRow(scenario, expected string, ok bool, detail string) row {
	r := row{scenario, expected, "PASS", detail}
	if !ok {
		r.result = "FAIL"
	}
	return r
}

// readSteps reads the setup's rows: scenario, expected, result, detail,
// tab-separated.
func readSteps(path string) ([]row, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path) //nolint:gosec // the demo script's file
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var rows []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 4)
		if len(p) == 4 {
			rows = append(rows, row{p[0], p[1], p[2], p[3]})
		}
	}
	return rows, sc.Err()
}

// printTable prints the summary and fails when a row did.
func printTable(rows []row) error {
	fmt.Printf("\n\033[1m== summary\033[0m\n\n%-28s %-15s %-6s %s\n", "scenario", "expected", "result", "detail")
	fmt.Println(strings.Repeat("-", 120))
	failed := 0
	for _, r := range rows {
		if r.result != "PASS" {
			failed++
		}
		fmt.Printf("%-28s %-15s %-6s %s\n", r.scenario, r.expected, r.result, clip(r.detail))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d scenario(s) failed", failed, len(rows))
	}
	fmt.Printf("\nall %d scenarios passed\n", len(rows))
	return nil
}

// prefixWriter indents each write (one log record) under the narration.
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, "   "); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

func say(format string, a ...any) { fmt.Printf("\n-- "+format+"\n", a...) }

func argsLine(args map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(args)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, args[k]))
	}
	return strings.Join(parts, " ")
}

// reasonOf returns data.reason (and data.token_error) of an AIP error.
func reasonOf(data []byte) string {
	var d struct {
		Reason     string `json:"reason"`
		TokenError string `json:"token_error"`
	}
	if json.Unmarshal(data, &d) != nil {
		return clip(string(data))
	}
	if d.TokenError != "" {
		return d.TokenError + ": " + d.Reason
	}
	return d.Reason
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "   " + strings.ReplaceAll(s, "\n", "\n   ") + "\n"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func clip(s string) string {
	s = strings.Join(strings.Fields(firstLine(s)), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
