// Command agent is an agent of one trust domain calling a tool through an
// aip enforcer of another: it proves itself with its X509-SVID (mTLS) to
// the issuer and the enforcer, and checks their SVIDs with the federated
// bundle its Workload API gives it (its entry federates with their
// domain).
//
//	go run ./examples/federation/agent -spiffe-socket unix:///tmp/b/agent.sock \
//	    -issuer https://127.0.0.1:18445 -mcp https://127.0.0.1:18447/mcp \
//	    -servers spiffe://a.test/aip/issuer,spiffe://a.test/aip/enforcer \
//	    -user "$USER" -tool echo -args '{"message":"hello from b.test"}'
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/identity/agent"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		os.Exit(1)
	}
}

func run() error {
	socket := flag.String("spiffe-socket", "", "the agent's SPIFFE Workload API `ADDR` (required)")
	issuer := flag.String("issuer", "", "the issuer's `URL` (required)")
	endpoint := flag.String("mcp", "", "the enforcer's MCP endpoint `URL`, also the AAT audience (required)")
	servers := flag.String("servers", "", "comma-separated SPIFFE `IDS` the issuer and enforcer may serve (required)")
	user := flag.String("user", "", "the local `USER` the agent acts for")
	tool := flag.String("tool", "echo", "the `TOOL` to call")
	args := flag.String("args", "{}", "the tool's arguments as a JSON `OBJECT`")
	serverBundle := flag.String("server-bundle", "", "a `FILE` with the servers' trust domain bundle (SPIFFE format), "+
		"when the agent's Workload API does not give it (its entry does not federate with that domain)")
	flag.Parse()
	if *socket == "" || *issuer == "" || *endpoint == "" || *servers == "" {
		flag.Usage()
		return fmt.Errorf("-spiffe-socket, -issuer, -mcp and -servers are required")
	}
	var ids []spiffeid.ID
	for _, s := range strings.Split(*servers, ",") {
		id, err := spiffeid.FromString(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-servers: %w", err)
		}
		ids = append(ids, id)
	}
	var arguments map[string]any
	if err := json.Unmarshal([]byte(*args), &arguments); err != nil {
		return fmt.Errorf("-args: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(*socket)))
	if err != nil {
		return fmt.Errorf("workload api: %w", err)
	}
	defer func() { _ = src.Close() }()
	svid, err := src.GetX509SVID()
	if err != nil {
		return err
	}
	fmt.Printf("agent %s\n", svid.ID)
	cfg := agent.Config{IssuerURL: *issuer, Audience: *endpoint, X509Source: src,
		LocalUser: *user, ServerAuthorizer: tlsconfig.AuthorizeOneOf(ids...)}
	if *serverBundle != "" {
		b, err := spiffebundle.Load(ids[0].TrustDomain(), *serverBundle)
		if err != nil {
			return fmt.Errorf("-server-bundle: %w", err)
		}
		cfg.X509Bundles = &federation.Bundles{X509: []x509bundle.Source{src, b}}
	}
	tr, err := agent.New(cfg)
	if err != nil {
		return err
	}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "federated-agent", Version: "1.0.0"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: *endpoint, HTTPClient: tr.Client()}, nil)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = session.Close() }()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: *tool, Arguments: arguments})
	if err != nil {
		return fmt.Errorf("%s: %w", *tool, err)
	}
	for _, c := range res.Content {
		if text, ok := c.(*mcp.TextContent); ok {
			fmt.Printf("%s: %s\n", *tool, text.Text)
		}
	}
	if res.IsError {
		return fmt.Errorf("%s returned an error", *tool)
	}
	return nil
}
