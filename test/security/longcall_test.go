package security

import (
	"context"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aip-project/aip/identity/agent"
)

// TestLongCallOutlastsReadTimeout is the control of the slow-body case:
// read_timeout bounds reading a request, not an authenticated call whose
// answer streams for longer.
func TestLongCallOutlastsReadTimeout(t *testing.T) {
	st := newStack(t)
	const tool = "trigger-long-running-operation"
	key := st.registerAgent(t, agentID, tool)
	tr, err := agent.New(agent.Config{IssuerURL: st.issuerURL, Audience: audience, Key: key, LocalUser: localUser})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "long", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.sidecar + "/mcp", HTTPClient: tr.Client()}, nil)
	if err != nil {
		t.Fatalf("connect through the sidecar: %v", err)
	}
	defer func() { _ = session.Close() }()
	start := time.Now()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"duration": 2 * readTimeout.Seconds(), "steps": 2}})
	if err != nil || res.IsError {
		t.Fatalf("a %s call after %s: %v %+v", 2*readTimeout, time.Since(start), err, res)
	}
	if d := time.Since(start); d < readTimeout {
		t.Fatalf("the call took %s, not longer than read_timeout (%s): the control proves nothing", d, readTimeout)
	}
	st.verifyAudit(t)
}
