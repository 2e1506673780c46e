package fault

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// The SPIRE agent restarted under an mTLS stack (issuer and sidecar
// serving their X509-SVIDs, an agent presenting its own): the workloads
// keep the SVIDs they hold through the restart, get new ones (new serials)
// from the restarted agent, keep rotating them, and every call through the
// sidecar succeeds with the rotated SVIDs.
func TestSPIREAgentRestarted(t *testing.T) {
	s := env.SPIREServer(t)
	mcpURL := env.MCPServerHTTP(t)
	td := s.TrustDomain
	issuerID := spiffeid.RequireFromPath(td, "/fault/issuer")
	enforcerID := spiffeid.RequireFromPath(td, "/fault/enforcer")
	agentID := spiffeid.RequireFromPath(td, "/agent/fault")
	const ttl = 20 * time.Second // renewed at half-life: every ~10s
	s.CreateEntry(t, issuerID)
	s.CreateEntryTTL(t, enforcerID, ttl)
	s.CreateEntryTTL(t, agentID, ttl)

	srcE, srcA := stacktest.X509Source(t, s, enforcerID), stacktest.X509Source(t, s, agentID)
	iss := stacktest.StartIssuer(t, stacktest.IssuerOptions{LocalUser: localUser, SVID: issuerID, SPIRE: s})
	issuerURL := iss.URL
	if _, err := iss.Registry().Create(context.Background(), registry.Agent{ID: "fault-agent", SPIFFEID: agentID.String(),
		Capabilities: []string{"echo"}, AllowedUsers: []string{localUser}}); err != nil {
		t.Fatal(err)
	}
	probe := stacktest.MTLSClient(srcA, enforcerID)
	enf := startSidecar(t, stacktest.SidecarOptions{Issuer: issuerURL, Upstream: mcpURL, Probe: probe,
		IssuerClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: tlsconfig.TLSClientConfig(srcE, tlsconfig.AuthorizeID(issuerID))}},
		TLS: stacktest.SPIFFETLS(s.WorkloadAddr, enforcerID, "spiffe://"+td.Name()+"/agent/*", td)})
	tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: audience, X509Source: srcA, LocalUser: localUser,
		ServerAuthorizer: tlsconfig.AuthorizeOneOf(issuerID, enforcerID)})
	if err != nil {
		t.Fatal(err)
	}
	session := openSession(t, tr.Client(), enf+"/mcp")
	call := func(what string) {
		t.Helper()
		status, resp, err := session.echo(context.Background(), what)
		if err != nil || status != http.StatusOK || resp.Error != nil {
			t.Fatalf("call %s: %d %+v %v", what, status, resp.Error, err)
		}
	}
	call("before the restart")

	restart := time.Now()
	s.RestartAgent(t)
	t.Logf("spire agent restarted in %v", time.Since(restart).Round(time.Millisecond))
	call("right after the restart")

	// Each workload gets SVIDs minted after the restart, and each rotates
	// again after that: two distinct serials issued after the restart.
	served := map[string]map[string]bool{"enforcer": {}, "agent": {}}
	deadline := time.Now().Add(3 * ttl)
	for i := 0; len(served["enforcer"]) < 2 || len(served["agent"]) < 2; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("SVIDs minted after the restart, by serial: %v; want two each within %v", served, 3*ttl)
		}
		if c := stacktest.ServerCert(t, probe, enf); c.NotBefore.After(restart.Add(-time.Second)) {
			served["enforcer"][c.SerialNumber.String()] = true
		}
		if sv, err := srcA.GetX509SVID(); err == nil && sv.Certificates[0].NotBefore.After(restart.Add(-time.Second)) {
			served["agent"][sv.Certificates[0].SerialNumber.String()] = true
		}
		call(fmt.Sprintf("during rotation %d", i))
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("SVIDs minted after the restart: %d for the enforcer, %d for the agent, within %v",
		len(served["enforcer"]), len(served["agent"]), time.Since(restart).Round(time.Millisecond))
	call("after rotation")
}
