package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
)

// An agent proving itself with its JWT-SVID from a real SPIRE agent: the
// SVID is the actor_token, and the token is bound to an in-memory DPoP key
// made by New, so every call still carries a proof.
func TestJWTSVIDAgent(t *testing.T) {
	spire := env.SPIREServer(t)
	id := spiffeid.RequireFromPath(spire.TrustDomain, "/agent/sdk-bot")
	spire.CreateEntry(t, id)
	spire.WaitForSVID(t, id)

	s := &setup{clock: newClock(), fetches: &countingTransport{}}
	s.issuerURL, s.issuer = startIssuer(t, s.clock, fmt.Sprintf("spiffe: {workload_api_addr: %q, trust_domain: %q}\n",
		spire.WorkloadAddr, spire.TrustDomain.Name()))
	if _, err := s.issuer.Registry().Create(context.Background(), registry.Agent{ID: "sdk-bot", SPIFFEID: id.String(),
		Capabilities: []string{"search"}, AllowedUsers: []string{localUser}}); err != nil {
		t.Fatal(err)
	}
	s.server = startMCPServer(t, s.issuerURL, s.clock, echo)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	jwtSource, err := workloadapi.NewJWTSource(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(spire.WorkloadAddr)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = jwtSource.Close() })

	tr := s.transport(t, func(c *agent.Config) { c.Key, c.JWTSource = nil, jwtSource })
	if tr.Thumbprint() == "" {
		t.Fatal("no ephemeral key")
	}
	for range 2 {
		if code, body := do(t, tr.Client(), http.MethodPost, s.server.URL, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); code != http.StatusOK {
			t.Fatalf("call: %d %s", code, body)
		}
	}
	_, failures, proofs := s.server.seen()
	s.server.mu.Lock()
	actors := s.server.actors
	s.server.mu.Unlock()
	if len(failures) > 0 || proofs != 2 || actors[0] != id.String() {
		t.Fatalf("failures %v, %d proofs, act.sub %v; want %s", failures, proofs, actors, id)
	}
}
