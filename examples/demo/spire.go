package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/internal/svid"
)

// spireFlags configure `demo spire-agent`, the agent of `make demo-spire`.
type spireFlags struct {
	issuer, endpoint, replicaB      string
	workloadAPI, agentID, issuerID  string
	enforcerIDs                     string
	login                           dexLogin
	root, aip, ca, adminTokenFile   string
	agentName                       string
	vault, vaultTokenFile, vaultKey string
	enforcerAudits, issuerAudit     string
	stepsFile                       string
	bindingFile, bindingScope       string
}

func (f *spireFlags) parse(args []string) error {
	fs := flag.NewFlagSet("spire-agent", flag.ContinueOnError)
	fs.StringVar(&f.issuer, "issuer", "", "issuer `URL` (https, its SVID)")
	fs.StringVar(&f.endpoint, "mcp", "", "the MCP service's public `URL` (enforcer A; also the AAT audience)")
	fs.StringVar(&f.replicaB, "replica-b", "", "`HOST:PORT` of enforcer B, a replica serving the same public URL")
	fs.StringVar(&f.workloadAPI, "workload-api", "", "the SPIFFE Workload API `ADDR`")
	fs.StringVar(&f.agentID, "agent-spiffe-id", "", "the agent's SPIFFE `ID`")
	fs.StringVar(&f.issuerID, "issuer-spiffe-id", "", "the issuer's SPIFFE `ID`")
	fs.StringVar(&f.enforcerIDs, "enforcer-spiffe-ids", "", "the enforcers' SPIFFE `IDS`, comma-separated")
	f.login.flags(fs)
	fs.StringVar(&f.root, "root", "", "the project `DIR` server-filesystem exposes")
	fs.StringVar(&f.aip, "aip", "bin/aip", "the aip CLI")
	fs.StringVar(&f.ca, "ca", "", "the trust bundle `FILE` (PEM), for the aip CLI")
	fs.StringVar(&f.adminTokenFile, "admin-token-file", "", "an administrator's ID token `FILE` (for aip revoke)")
	fs.StringVar(&f.agentName, "agent-id", "", "the agent's registered `ID`")
	fs.StringVar(&f.vault, "vault", "", "Vault's `URL`")
	fs.StringVar(&f.vaultTokenFile, "vault-token-file", "", "`FILE` holding a Vault token that may read the transit key")
	fs.StringVar(&f.vaultKey, "vault-key", "", "the transit key `NAME`")
	fs.StringVar(&f.enforcerAudits, "enforcer-audits", "", "the enforcers' audit logs, comma-separated")
	fs.StringVar(&f.issuerAudit, "issuer-audit", "", "the issuer's audit log")
	fs.StringVar(&f.stepsFile, "steps-file", "", "rows (scenario TAB expected TAB result TAB detail) from the setup, for the table")
	fs.StringVar(&f.bindingFile, "binding-file", "", "`FILE` holding the id of the user's SSO binding of the agent (demo sso-bind)")
	fs.StringVar(&f.bindingScope, "binding-scope", "", "the `TOOLS` the binding allows, comma-separated")
	return fs.Parse(args)
}

// runSPIREAgent is `demo spire-agent`: the scenarios of `make demo`
// through two enforcer replicas, with the agent's X509-SVID and Bob's
// Dex ID token, then the shared-Redis ones (replay on the other replica,
// revocation on both), and an exchange on Bob's SSO binding with the
// agent's SVID alone.
func runSPIREAgent(args []string) error {
	var f spireFlags
	if err := f.parse(args); err != nil {
		return err
	}
	rows, err := readSteps(f.stepsFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows = append(rows, spireScenarios(ctx, f)...)
	for i, log := range strings.Split(f.enforcerAudits, ",") {
		rows = append(rows, auditVerify(ctx, f.aip, fmt.Sprintf("enforcer %c audit verified", 'A'+i), log))
	}
	rows = append(rows, auditVerify(ctx, f.aip, "issuer audit log verified", f.issuerAudit))
	return printTable(rows)
}

// spireAgent is the connected agent: one session per replica.
type spireAgent struct {
	src    *workloadapi.X509Source
	a, b   *demoAgent
	mtls   *http.Transport   // presents the agent's SVID, accepts the issuer and enforcers
	viaB   http.RoundTripper // sends requests for the public URL to B
	bobTok string
}

func spireScenarios(ctx context.Context, f spireFlags) []row {
	s, rows, err := connectSPIRE(ctx, f)
	if err != nil {
		return append(rows, row{"connect through enforcer A", "session", "FAIL", err.Error()})
	}
	defer s.close()
	rows = append(rows, s.a.listTools(ctx)...)
	rows = append(rows, s.a.runCalls(ctx, fileCalls(f.root))...)
	rows = append(rows, s.tokenRows(ctx, f)...)
	rows = append(rows, s.onReplicaB(ctx, f)...)
	rows = append(rows, s.a.replay(ctx, "replay on the other replica", s.viaB))
	rows = append(rows, s.bindingRows(ctx, f)...)
	rows = append(rows, s.revokeEverywhere(ctx, f))
	return rows
}

// connectSPIRE logs Bob in at Dex, opens the agent's X509 source, and
// connects the agent SDK to enforcer A.
func connectSPIRE(ctx context.Context, f spireFlags) (*spireAgent, []row, error) {
	say("Bob logs in at Dex (password grant: a shortcut of this demo; a person uses the browser or the device flow)")
	tok, err := f.login.idToken(ctx)
	if err != nil {
		return nil, nil, err
	}
	rows := []row{newRow("user logged in at Dex", "ID token", true, f.login.user+", groups from Dex, verified against Dex's keys")}
	agentID, err := spiffeid.FromString(f.agentID)
	if err != nil {
		return nil, rows, fmt.Errorf("-agent-spiffe-id: %w", err)
	}
	servers := []spiffeid.ID{spiffeid.RequireFromString(f.issuerID)}
	for _, id := range strings.Split(f.enforcerIDs, ",") {
		sid, err := spiffeid.FromString(id)
		if err != nil {
			return nil, rows, fmt.Errorf("-enforcer-spiffe-ids: %w", err)
		}
		servers = append(servers, sid)
	}
	src, err := svid.NewX509Source(ctx, f.workloadAPI, agentID)
	if err != nil {
		return nil, rows, err
	}
	sv, _ := src.GetX509SVID()
	say("the agent's X509-SVID from the SPIRE agent's Workload API: %s, valid until %s", sv.ID, sv.Certificates[0].NotAfter.Format(time.TimeOnly))
	rows = append(rows, newRow("agent X509-SVID", "from SPIRE", true, fmt.Sprintf("%s, by the Workload API (unix:uid + unix:path)", sv.ID)))

	mtls := http.DefaultTransport.(*http.Transport).Clone()
	mtls.TLSClientConfig = tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeOneOf(servers...))
	s := &spireAgent{src: src, bobTok: tok, mtls: mtls, viaB: redirect(mtls, f.endpoint, f.replicaB)}
	if s.a, err = connectReplica(ctx, f, src, mtls, &recorder{base: mtls}, idToken(tok)); err != nil {
		_ = src.Close()
		return nil, rows, fmt.Errorf("enforcer A: %w", err)
	}
	return s, rows, nil
}

// connectReplica runs the agent SDK over base (with the agent's SVID) and
// opens an MCP session at the public URL.
// subject sets who the agent acts for: a user's ID token, or a binding.
type subject func(*agent.Config)

// idToken acts for the user whose ID token tok is.
func idToken(tok string) subject {
	return func(c *agent.Config) { c.SubjectToken = func(context.Context) (string, error) { return tok, nil } }
}

// bindingOf acts for user on the SSO binding they made: no user token.
func bindingOf(user string) subject {
	return func(c *agent.Config) { c.Binding = &agent.Binding{User: user} }
}

func connectReplica(ctx context.Context, f spireFlags, src *workloadapi.X509Source, issuerTr, base http.RoundTripper, subj subject) (*demoAgent, error) {
	log := slog.New(slog.NewTextHandler(prefixWriter{os.Stdout}, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
			return slog.Attr{}
		}
		return a
	}}))
	cfg := agent.Config{IssuerURL: f.issuer, Audience: f.endpoint, X509Source: src,
		Base: base, HTTPClient: &http.Client{Transport: issuerTr, Timeout: 10 * time.Second},
		Logger: log.With("sdk", "identity/agent")}
	subj(&cfg)
	tr, err := agent.New(cfg)
	if err != nil {
		return nil, err
	}
	rec, _ := base.(*recorder)
	if rec == nil {
		rec = &recorder{base: base}
	}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "aip-demo-spire-agent", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: f.endpoint, HTTPClient: tr.Client(), DisableStandaloneSSE: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", f.endpoint, err)
	}
	return &demoAgent{tr: tr, rec: rec, session: session}, nil
}

// redirect is base, except that connections for the host of public go to
// addr: a load balancer that picked replica B.
func redirect(base *http.Transport, public, addr string) http.RoundTripper {
	u, _ := url.Parse(public)
	tr := base.Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
		if a == u.Host {
			a = addr
		}
		return d.DialContext(ctx, network, a)
	}
	return tr
}

// onReplicaB connects a second session through enforcer B and reads the
// README there.
func (s *spireAgent) onReplicaB(ctx context.Context, f spireFlags) []row {
	say("enforcer B: the same public URL, reached on replica B (as a load balancer would)")
	b, err := connectReplica(ctx, f, s.src, s.viaB, s.viaB, idToken(s.bobTok))
	if err != nil {
		return []row{newRow("allowed read on replica B", "allow", false, err.Error())}
	}
	s.b = b
	c := fileCalls(f.root)[0]
	c.title, c.record = "allowed read on replica B", false
	return b.runCalls(ctx, []call{c})
}

// revokeEverywhere revokes the agent with `aip revoke` (as Alice, an
// administrator by her Dex group) and measures, for each replica, the time
// from the command's return to the first call it refuses. The revocation
// reaches both through Redis (pub/sub), not by polling the issuer.
func (s *spireAgent) revokeEverywhere(ctx context.Context, f spireFlags) row {
	const title, want = "revoked on both replicas", "-32011"
	if s.b == nil {
		return newRow(title, want, false, "no session on replica B")
	}
	say("revocation: aip revoke --agent %s (as alice@example.com, an admin by her Dex group), then the agent keeps calling both replicas", f.agentName)
	out, err := exec.CommandContext(ctx, f.aip, "revoke", "--issuer", f.issuer, "--ca", f.ca, //nolint:gosec // the demo's own CLI
		"--admin-token-file", f.adminTokenFile, "--agent", f.agentName, "--reason", "make demo-spire: revocation scenario").CombinedOutput()
	revoked := time.Now()
	if err != nil {
		return newRow(title, want, false, fmt.Sprintf("aip revoke failed: %v: %s", err, clip(string(out))))
	}
	fmt.Print(indent(string(out)))
	path := filepath.Join(f.root, "README.md")
	// Both replicas are called at once, each measured on its own.
	type result struct {
		took    time.Duration
		code    int64
		allowed int
		err     error
	}
	replicas := []*demoAgent{s.a, s.b}
	results := make([]result, len(replicas))
	var wg sync.WaitGroup
	for i, d := range replicas {
		wg.Go(func() {
			r := &results[i]
			r.took, r.code, r.allowed, r.err = refusedAfter(ctx, d.session, path, revoked)
		})
	}
	wg.Wait()
	var took []string
	for i, r := range results {
		name := string(rune('A' + i))
		if r.err != nil {
			return newRow(title, want, false, fmt.Sprintf("replica %s: %v", name, r.err))
		}
		if fmt.Sprint(r.code) != want {
			return newRow(title, want, false, fmt.Sprintf("replica %s refused with %d, not %s", name, r.code, want))
		}
		fmt.Printf("   -> replica %s refuses %d %s after the revoke returned (%d call(s) allowed meanwhile)\n", name, r.code, r.took.Round(time.Millisecond), r.allowed)
		took = append(took, fmt.Sprintf("%s %s", name, r.took.Round(time.Millisecond)))
	}
	return newRow(title, want, true, "refused by "+strings.Join(took, ", ")+" after aip revoke returned (Redis pub/sub)")
}

// refusedAfter calls read_text_file until the enforcer refuses, for at
// most 10 s after since, and returns when and with which code.
func refusedAfter(ctx context.Context, session *mcp.ClientSession, path string, since time.Time) (time.Duration, int64, int, error) {
	allowed := 0
	for time.Since(since) < 10*time.Second {
		_, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": path}})
		var rpcErr *jsonrpc.Error
		switch {
		case err == nil:
			allowed++
			time.Sleep(2 * time.Millisecond)
		case errors.As(err, &rpcErr):
			return time.Since(since), rpcErr.Code, allowed, nil
		default:
			return 0, 0, allowed, err
		}
	}
	return 0, 0, allowed, fmt.Errorf("still allowed %s after the revocation (%d calls)", time.Since(since).Round(time.Millisecond), allowed)
}

func (s *spireAgent) close() {
	for _, d := range []*demoAgent{s.a, s.b} {
		if d != nil {
			_ = d.session.Close()
		}
	}
	_ = s.src.Close()
}
