// Command agent is an example AI agent that calls an MCP tool through an
// aip enforcer sidecar: identity/agent gets its AAT from the issuer and
// signs each request with a DPoP proof, under the official MCP Go SDK's
// StreamableClientTransport.
//
//	go run ./examples/agent -issuer http://127.0.0.1:8443 -mcp http://127.0.0.1:8081/mcp \
//	    -key agent.key -user "$USER" -tool read_file -args '{"path":"README.md"}'
//
// See README.md for the whole setup.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/agent"
)

type options struct {
	issuer, endpoint, audience string
	keyFile, user, idTokenFile string
	binding                    bool
	boundUser                  string
	ci, ciAudience, ciTokenEnv string
	spiffeSocket               string
	scope, tool, args          string
	timeout                    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.issuer, "issuer", "http://127.0.0.1:8443", "the issuer's `URL` (its issuer_url)")
	flag.StringVar(&o.endpoint, "mcp", "http://127.0.0.1:8081/mcp", "the MCP endpoint `URL` of the enforcer sidecar")
	flag.StringVar(&o.audience, "audience", "", "the AAT audience (default: the -mcp URL)")
	flag.StringVar(&o.keyFile, "key", "", "the agent's native key `FILE` (from `aip agent keygen`)")
	flag.StringVar(&o.spiffeSocket, "spiffe-socket", "", "the SPIFFE Workload API `ADDR` (e.g. unix:///tmp/spire-agent/public/api.sock): prove the agent by its SVIDs")
	flag.StringVar(&o.user, "user", "", "the local `USER` the agent acts for (issuer with local_user enabled)")
	flag.StringVar(&o.idTokenFile, "id-token-file", "", "a `FILE` holding the user's OIDC ID token, read on each token request")
	flag.BoolVar(&o.binding, "binding", false, "act for the person who bound the agent by SSO (docs/sso.md)")
	flag.StringVar(&o.boundUser, "bound-user", "", "with -binding: the `USER` (id or email) when several people bound the agent")
	flag.StringVar(&o.ci, "ci", "", "run as a CI job of `PROVIDER` github or gitlab: exchange its OIDC token, no agent key (docs/cicd.md)")
	flag.StringVar(&o.ciAudience, "ci-audience", "", "with -ci github: the `AUD` of the job's token (default: the -issuer URL)")
	flag.StringVar(&o.ciTokenEnv, "ci-token-env", "", "with -ci gitlab: the `NAME` of the variable holding the job's ID token (default AIP_ID_TOKEN)")
	flag.StringVar(&o.scope, "scope", "", "space-separated `TOOLS` to ask for (default: all the agent is granted)")
	flag.StringVar(&o.tool, "tool", "", "the `TOOL` to call (default: only list the tools)")
	flag.StringVar(&o.args, "args", "{}", "the tool's arguments as a JSON `OBJECT`")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this `DURATION`")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(o, log); err != nil {
		fmt.Fprintf(os.Stderr, "agent: %v\n", err)
		os.Exit(1)
	}
}

func run(o options, log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	cfg, closeSources, err := o.config(ctx, log)
	if err != nil {
		return err
	}
	defer closeSources()
	tr, err := agent.New(cfg)
	if err != nil {
		return err
	}
	log.Info("agent ready", "jkt", tr.Thumbprint(), "issuer", o.issuer, "mcp", o.endpoint)

	client := mcp.NewClient(&mcp.Implementation{Name: "aip-example-agent", Version: "0.1.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   o.endpoint,
		HTTPClient: tr.Client(),
		// The example only calls tools; it needs no server-initiated messages.
		DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return explain(fmt.Errorf("connect to %s: %w", o.endpoint, err))
	}
	defer session.Close()

	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return explain(fmt.Errorf("list tools: %w", err))
	}
	for _, t := range tools.Tools {
		fmt.Printf("tool %s\t%s\n", t.Name, firstLine(t.Description))
	}
	if o.tool == "" {
		return nil
	}
	var args map[string]any
	if err := json.Unmarshal([]byte(o.args), &args); err != nil {
		return fmt.Errorf("-args: not a JSON object: %w", err)
	}
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: o.tool, Arguments: args})
	if err != nil {
		// A denial by the enforcer is a JSON-RPC error with an AIP code
		// (-32001 forbidden, -32017 capability denied, -32009 token invalid...).
		return explain(fmt.Errorf("call %s: %w", o.tool, err))
	}
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			fmt.Println(t.Text)
		}
	}
	if res.IsError {
		return fmt.Errorf("tool %s reported an error", o.tool)
	}
	return nil
}

// config builds the SDK configuration from the flags; closeSources closes
// the Workload API sources, if any.
func (o options) config(ctx context.Context, log *slog.Logger) (agent.Config, func(), error) {
	cfg := agent.Config{IssuerURL: o.issuer, Audience: o.audience, LocalUser: o.user, Logger: log}
	if cfg.Audience == "" {
		cfg.Audience = o.endpoint
	}
	if o.scope != "" {
		cfg.Scope = strings.Fields(o.scope)
	}
	if o.idTokenFile != "" {
		path := o.idTokenFile
		cfg.SubjectToken = func(context.Context) (string, error) {
			b, err := os.ReadFile(path) //nolint:gosec // the operator's flag
			if err != nil {
				return "", fmt.Errorf("id token: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	if o.binding {
		cfg.Binding = &agent.Binding{User: o.boundUser}
	} else if o.boundUser != "" {
		return cfg, nil, errors.New("-bound-user needs -binding")
	}
	switch o.ci {
	case "":
	case "github":
		aud := o.ciAudience
		if aud == "" {
			aud = o.issuer
		}
		cfg.CIToken = agent.GitHubActionsToken(aud, nil)
	case "gitlab":
		cfg.CIToken = agent.GitLabToken(o.ciTokenEnv)
	default:
		return cfg, nil, fmt.Errorf("-ci %q: want github or gitlab", o.ci)
	}
	if o.keyFile != "" {
		k, err := agent.LoadKeyFile(o.keyFile)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Key = k
	}
	closeSources := func() {}
	if o.spiffeSocket != "" {
		clientOpt := workloadapi.WithClientOptions(workloadapi.WithAddr(o.spiffeSocket))
		x509src, err := workloadapi.NewX509Source(ctx, clientOpt)
		if err != nil {
			return cfg, nil, fmt.Errorf("workload api: %w", err)
		}
		jwtsrc, err := workloadapi.NewJWTSource(ctx, clientOpt)
		if err != nil {
			_ = x509src.Close()
			return cfg, nil, fmt.Errorf("workload api: %w", err)
		}
		cfg.X509Source, cfg.JWTSource = x509src, jwtsrc
		closeSources = func() { _ = jwtsrc.Close(); _ = x509src.Close() }
	}
	return cfg, closeSources, nil
}

// explain adds what to check to a token refusal by the issuer.
func explain(err error) error {
	var te *agent.TokenError
	if errors.As(err, &te) {
		switch te.Code {
		case "invalid_client":
			return fmt.Errorf("%w\n(is the agent registered with this key? aip agent register --key FILE.pub ...)", err)
		case "invalid_scope":
			return fmt.Errorf("%w\n(is the tool among the agent's capabilities?)", err)
		}
	}
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
