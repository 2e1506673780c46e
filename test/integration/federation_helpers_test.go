package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// fedDomains are three real SPIRE trust domains: A (the issuer and the
// enforcers) federated with B (an agent), and C federated with nobody.
type fedDomains struct {
	a, b, c *env.SPIRE
	// issuer, enforcer and enforcerByBundle are workloads of A; agentB of
	// B, agentC of C.
	issuer, enforcer, enforcerByBundle, agentB, agentC spiffeid.ID
}

func newFedDomains(t *testing.T) fedDomains {
	t.Helper()
	d := fedDomains{a: env.SPIREDomain(t, "fed-a.test"), b: env.SPIREDomain(t, "fed-b.test"), c: env.SPIREDomain(t, "fed-c.test")}
	env.FederateSPIRE(t, d.a, d.b)
	d.issuer = spiffeid.RequireFromPath(d.a.TrustDomain, "/aip/issuer")
	d.enforcer = spiffeid.RequireFromPath(d.a.TrustDomain, "/aip/enforcer")
	d.enforcerByBundle = spiffeid.RequireFromPath(d.a.TrustDomain, "/aip/enforcer-by-bundle")
	d.agentB = spiffeid.RequireFromPath(d.b.TrustDomain, "/agent/b")
	d.agentC = spiffeid.RequireFromPath(d.c.TrustDomain, "/agent/c")
	// A's workloads are not federated in SPIRE: what they know of B comes
	// from aip's own federation watcher. B's agent gets A's bundle from
	// SPIRE, to check the issuer's and the enforcer's certificates.
	for _, id := range []spiffeid.ID{d.issuer, d.enforcer, d.enforcerByBundle} {
		d.a.CreateEntry(t, id)
	}
	d.b.CreateFederatedEntry(t, d.agentB, []spiffeid.TrustDomain{d.a.TrustDomain})
	d.c.CreateEntry(t, d.agentC)
	return d
}

// bPeer is the federates_with entry for B's SPIRE bundle endpoint,
// bootstrapped from B's bundle file.
func (d fedDomains) bPeer(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf(`{trust_domain: %s, bundle_endpoint_url: %q, profile: https_spiffe, endpoint_spiffe_id: %q, bootstrap_bundle: %q}`,
		d.b.TrustDomain.Name(), d.b.BundleEndpointURL, d.b.ServerID, d.b.BundleFile(t, t.TempDir()))
}

// startFedIssuer runs issuer A over mTLS with its SVID, federated with B,
// serving its bundle endpoint; it returns the issuer URL and the bundle
// endpoint URL.
func startFedIssuer(t *testing.T, d fedDomains) (string, string, *issuer.Issuer) {
	t.Helper()
	is := stacktest.StartIssuer(t, stacktest.IssuerOptions{LocalUser: sidecarUser, SVID: d.issuer, SPIRE: d.a, FederatesWith: d.bPeer(t)})
	return is.URL, is.BundleURL, is.Issuer
}

// startFedSidecar runs an enforcer of domain A serving own's SVID in
// front of upstream, admitting agents of A and B; issuers and federation
// are its YAML (flow style); issuerClient nil: the sidecar's own. It is
// ready once it answers probe.
func startFedSidecar(t *testing.T, d fedDomains, own spiffeid.ID, issuers, federatesWith string, issuerClient, probe *http.Client, upstream string) string {
	t.Helper()
	return stacktest.StartSidecar(t, stacktest.SidecarOptions{Issuers: issuers, Upstream: upstream, Policy: sidecarPolicy,
		Audience: sidecarAudience, IssuerClient: issuerClient, Probe: probe,
		TLS:   stacktest.SPIFFETLS(d.a.WorkloadAddr, own, "spiffe://*/agent/*", d.a.TrustDomain, d.b.TrustDomain),
		Extra: fmt.Sprintf("federation:\n  federates_with: [%s]\n", federatesWith)}).URL
}

// outsiderClient presents src's SVID (of an unfederated domain) and checks
// servers with A's bundle, as if that domain trusted A but A not it.
func outsiderClient(src *workloadapi.X509Source, a x509bundle.Source, servers ...spiffeid.ID) *http.Client {
	bundles := &federation.Bundles{X509: []x509bundle.Source{src, a}}
	tr := &http.Transport{TLSClientConfig: tlsconfig.MTLSClientConfig(src, bundles, tlsconfig.AuthorizeOneOf(servers...)), DisableKeepAlives: true}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
