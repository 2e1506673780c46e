package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/test/env"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := "https://" + ln.Addr().String()
	cfg, err := config.Parse(fmt.Appendf(nil, `listen: %q
issuer_url: %q
tls: {spiffe: true, spiffe_id: %q}
spiffe: {workload_api_addr: %q, trust_domain: %q}
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
local_user: {enabled: true, user_id: %s}
federation:
  bundle_endpoint: {listen: %q, profile: https_spiffe, refresh_hint: 2s}
  federates_with: [%s]
`, ln.Addr().String(), base, d.issuer, d.a.WorkloadAddr, d.a.TrustDomain.Name(), filepath.Join(dir, "audit.jsonl"),
		filepath.Join(dir, "key.pem"), filepath.Join(dir, "store"), sidecarUser, bln.Addr().String(), d.bPeer(t)))
	if err != nil {
		t.Fatalf("issuer config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	is, err := issuer.New(ctx, cfg, issuer.Options{})
	if err != nil {
		cancel()
		t.Fatalf("issuer.New: %v", err)
	}
	done := make(chan error, 2)
	go func() { done <- is.Server.Serve(ctx, ln) }()
	go func() { done <- is.ServeBundleEndpoint(ctx, bln) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("issuer serve: %v", err)
			}
		}
		_ = is.Close()
	})
	return base, "https://" + bln.Addr().String(), is
}

// startFedSidecar runs an enforcer of domain A serving own's SVID in
// front of upstream, admitting agents of A and B; issuers and federation
// are its YAML (flow style); issuerClient nil: the sidecar's own.
func startFedSidecar(t *testing.T, d fedDomains, own spiffeid.ID, issuers, federatesWith string, issuerClient *http.Client, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(sidecarPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sidecar.Parse(fmt.Appendf(nil, `listen: %q
upstream: {url: %q}
policy: {path: %q}
audit: {path: %q}
audience: %q
issuers: [%s]
tls:
  mode: spiffe
  workload_api_addr: %q
  trust_domains: [%s, %s]
  id_patterns: ["spiffe://*/agent/*"]
  spiffe_id: %q
federation:
  federates_with: [%s]
`, ln.Addr().String(), upstream, pol, filepath.Join(dir, "audit.jsonl"), sidecarAudience, issuers,
		d.a.WorkloadAddr, d.a.TrustDomain.Name(), d.b.TrustDomain.Name(), own, federatesWith))
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sidecar.New(ctx, cfg, sidecar.Options{HTTPClient: issuerClient})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sidecar serve: %v", err)
		}
		_ = srv.Close()
	})
	return "https://" + ln.Addr().String()
}

// outsiderClient presents src's SVID (of an unfederated domain) and checks
// servers with A's bundle, as if that domain trusted A but A not it.
func outsiderClient(src *workloadapi.X509Source, a x509bundle.Source, servers ...spiffeid.ID) *http.Client {
	bundles := &federation.Bundles{X509: []x509bundle.Source{src, a}}
	tr := &http.Transport{TLSClientConfig: tlsconfig.MTLSClientConfig(src, bundles, tlsconfig.AuthorizeOneOf(servers...)), DisableKeepAlives: true}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
