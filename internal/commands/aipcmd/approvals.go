package aipcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/internal/cli"
)

// defaultEnforcerURL is the embedded default's listen address
// (deploy/enforcer.yaml).
const defaultEnforcerURL = "http://127.0.0.1:8080"

// maxAPIResponse bounds an approvals API response read by the CLI.
const maxAPIResponse = 4 << 20

// enforcerFlags are the flags of commands that call an enforcer's
// approvals API: a bearer secret (plain loopback mode) or an mTLS client
// certificate, an X509-SVID (spiffe mode).
type enforcerFlags struct {
	url       string
	tokenFile string
	tls       issuerFlags // cert, cert-key, ca and output
}

func (o *enforcerFlags) declare(fs *flag.FlagSet) {
	def := os.Getenv("AIP_ENFORCER")
	if def == "" {
		def = defaultEnforcerURL
	}
	fs.StringVar(&o.url, "enforcer", def, "enforcer base `URL` (default from AIP_ENFORCER)")
	fs.StringVar(&o.tokenFile, "token-file", "", "`FILE` holding the approvers' bearer secret (approvals.approvers.bearer_token_file)")
	fs.StringVar(&o.tls.certFile, "cert", "", "PEM client certificate `FILE` (an approver's X509-SVID) for mTLS")
	fs.StringVar(&o.tls.keyFile, "cert-key", "", "PEM private key `FILE` of --cert")
	fs.StringVar(&o.tls.caFile, "ca", "", "PEM CA bundle `FILE` (the trust bundle) to verify the enforcer")
	fs.StringVar(&o.tls.output, "output", "table", "output format: table or json")
}

// approvalsClient calls an enforcer's approvals API.
type approvalsClient struct {
	base  string
	token string
	hc    *http.Client
}

func (o *enforcerFlags) client() (*approvalsClient, error) {
	if err := o.tls.checkOutput(); err != nil {
		return nil, err
	}
	if (o.tls.certFile == "") != (o.tls.keyFile == "") {
		return nil, cli.Usagef("--cert and --cert-key go together")
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, cli.Usagef("--enforcer %q: want an http(s) URL", o.url)
	}
	c := &approvalsClient{base: strings.TrimSuffix(o.url, "/")}
	if o.tokenFile != "" {
		if c.token, err = readSecretFile(o.tokenFile); err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
	}
	if c.hc, err = o.tls.httpClient(); err != nil {
		return nil, err
	}
	return c, nil
}

// do sends a request to path and decodes a 200 answer into out; another
// status is an error with the API's error_description.
func (c *approvalsClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req) //nolint:gosec // G704: the URL is the user's --enforcer
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			return fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, e.Error, e.Description)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func approvalsCommand() *cli.Command {
	return &cli.Command{
		Name:    "approvals",
		Summary: "list, approve or deny tool calls waiting for a person at an enforcer",
		Commands: []*cli.Command{
			approvalsListCommand(),
			approvalsSettleCommand(approval.DecisionApprove, "let the waiting call through"),
			approvalsSettleCommand(approval.DecisionDeny, "refuse the waiting call (-32004)"),
		},
	}
}

func approvalsListCommand() *cli.Command {
	var o enforcerFlags
	return &cli.Command{
		Name:    "list",
		Summary: "list the calls waiting for approval",
		Help: "Lists the enforcer's pending approvals (GET /v1/approvals): id, tool, the SHA-256 of\n" +
			"the arguments, agent, user and when the call gives up waiting.",
		Flags: o.declare,
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("no arguments are taken")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var l approval.List
			if err := c.do(ctx, http.MethodGet, "/v1/approvals", nil, &l); err != nil {
				return fmt.Errorf("list approvals: %w", err)
			}
			if o.tls.output == "json" {
				return writeJSON(env.Stdout, l.Approvals)
			}
			return writeApprovals(env.Stdout, l.Approvals)
		},
	}
}

func writeApprovals(w io.Writer, ps []approval.Pending) error {
	if len(ps) == 0 {
		_, err := fmt.Fprintln(w, "no pending approvals")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTOOL\tARGS SHA-256\tAGENT\tUSER\tREQUESTED\tEXPIRES")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Tool, p.ArgsSHA256, p.AgentID, p.UserID,
			p.RequestedAt.Format(time.RFC3339), p.ExpiresAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func approvalsSettleCommand(decision, summary string) *cli.Command {
	var o enforcerFlags
	return &cli.Command{
		Name:    decision,
		Summary: summary,
		Usage:   "ID",
		Flags:   o.declare,
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return cli.Usagef("want exactly one approval ID (see `aip approvals list`)")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			var got struct {
				ID       string `json:"id"`
				Decision string `json:"decision"`
			}
			path := "/v1/approvals/" + url.PathEscape(args[0])
			if err := c.do(ctx, http.MethodPost, path, approval.Decision{Decision: decision}, &got); err != nil {
				return fmt.Errorf("%s %s: %w", decision, args[0], err)
			}
			if o.tls.output == "json" {
				return writeJSON(env.Stdout, got)
			}
			_, err = fmt.Fprintf(env.Stdout, "%s: %s\n", got.ID, got.Decision)
			return err
		},
	}
}
