package fault

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
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

	srcE, srcA := x509Source(t, s, enforcerID), x509Source(t, s, agentID)
	issuerURL, is, _ := startIssuer(t, fmt.Sprintf("tls: {spiffe: true, spiffe_id: %q}\nspiffe: {workload_api_addr: %q, trust_domain: %q}\n",
		issuerID, s.WorkloadAddr, td.Name()), nil)
	if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: "fault-agent", SPIFFEID: agentID.String(),
		Capabilities: []string{"echo"}, AllowedUsers: []string{localUser}}); err != nil {
		t.Fatal(err)
	}
	probe := mtlsClient(srcA, enforcerID)
	enf := startSidecar(t, sidecarConfig{issuer: issuerURL, upstream: mcpURL, probe: probe,
		issuerClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: tlsconfig.TLSClientConfig(srcE, tlsconfig.AuthorizeID(issuerID))}},
		tls: fmt.Sprintf("tls: {mode: spiffe, workload_api_addr: %q, trust_domains: [%q], id_patterns: [\"spiffe://%s/agent/*\"], spiffe_id: %q}\n",
			s.WorkloadAddr, td.Name(), td.Name(), enforcerID)})
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
		if c := serverCert(t, probe, enf); c.NotBefore.After(restart.Add(-time.Second)) {
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

// x509Source is a Workload API source that serves id's SVID only.
func x509Source(t *testing.T, s *env.SPIRE, id spiffeid.ID) *workloadapi.X509Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(s.WorkloadAddr)),
		workloadapi.WithDefaultX509SVIDPicker(func(svids []*x509svid.SVID) *x509svid.SVID {
			for _, sv := range svids {
				if sv.ID == id {
					return sv
				}
			}
			return nil
		}))
	if err != nil {
		t.Fatalf("x509 source for %s: %v", id, err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src
}

// mtlsClient presents src's SVID and accepts only the server id; each
// request opens a new connection.
func mtlsClient(src *workloadapi.X509Source, server spiffeid.ID) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeID(server))
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// serverCert returns the certificate base's TLS server presents now.
func serverCert(t *testing.T, c *http.Client, base string) *x509.Certificate {
	t.Helper()
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET %s/healthz: %v", base, err)
	}
	_ = resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		t.Fatalf("GET %s/healthz: no TLS peer certificate", base)
	}
	return resp.TLS.PeerCertificates[0]
}
