package env

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// domains are the SPIRE deployments of SPIREDomain, one per trust domain.
var (
	domainsMu sync.Mutex
	domains   = map[string]*once[SPIRE]{}
	federated sync.Map // "a|b" → *once[struct{}]
)

// SPIREDomain returns an independent SPIRE server and agent for the trust
// domain name (not aip.test: that is SPIREServer's), with the server's
// bundle endpoint (profile https_spiffe, refresh hint 5s) on; started on
// first use, shared by the tests of the process. Federate two of them
// with FederateSPIRE.
func SPIREDomain(t testing.TB, name string) *SPIRE {
	t.Helper()
	skipShort(t, "spire-server and spire-agent")
	if name == "aip.test" {
		t.Fatal("SPIREDomain: aip.test is SPIREServer's trust domain")
	}
	domainsMu.Lock()
	o, ok := domains[name]
	if !ok {
		o = &once[SPIRE]{}
		domains[name] = o
	}
	domainsMu.Unlock()
	s, err := o.get(func() (*SPIRE, error) { return startSPIRE(name, true) })
	if err != nil {
		t.Fatalf("spire %s: %v", name, err)
	}
	printLogsOnFailure(t, s.server, s.agent)
	return s
}

// BundleFile writes the server's bundle of its own trust domain in the
// SPIFFE format (`spire-server bundle show -format spiffe`) to a file
// under dir and returns its path: a bootstrap bundle for federation.
func (s *SPIRE) BundleFile(t testing.TB, dir string) string {
	t.Helper()
	out, err := s.run("bundle", "show", "-socketPath", s.ServerSocket, "-format", "spiffe")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, s.TrustDomain.Name()+".bundle.json")
	if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// FederateSPIRE federates the SPIRE servers of a and b with each other,
// as an operator does: each is given the other's bundle endpoint
// (https_spiffe) and bootstrap bundle (`spire-server federation create`),
// then refreshes it at once. Done once per pair and process.
func FederateSPIRE(t testing.TB, a, b *SPIRE) {
	t.Helper()
	if a.BundleEndpointURL == "" || b.BundleEndpointURL == "" {
		t.Fatal("FederateSPIRE: both deployments need a bundle endpoint (SPIREDomain)")
	}
	key := a.TrustDomain.Name() + "|" + b.TrustDomain.Name()
	if b.TrustDomain.Name() < a.TrustDomain.Name() {
		key = b.TrustDomain.Name() + "|" + a.TrustDomain.Name()
	}
	v, _ := federated.LoadOrStore(key, &once[struct{}]{})
	_, err := v.(*once[struct{}]).get(func() (*struct{}, error) {
		dir, err := tempDir("federation")
		if err != nil {
			return nil, err
		}
		for _, pair := range [][2]*SPIRE{{a, b}, {b, a}} {
			local, peer := pair[0], pair[1]
			out, err := peer.run("bundle", "show", "-socketPath", peer.ServerSocket, "-format", "spiffe")
			if err != nil {
				return nil, err
			}
			bundle := filepath.Join(dir, peer.TrustDomain.Name()+".json")
			if err := os.WriteFile(bundle, []byte(out), 0o600); err != nil {
				return nil, err
			}
			if _, err := local.run("federation", "create", "-socketPath", local.ServerSocket,
				"-trustDomain", peer.TrustDomain.Name(), "-bundleEndpointURL", peer.BundleEndpointURL,
				"-bundleEndpointProfile", "https_spiffe", "-endpointSpiffeID", peer.ServerID.String(),
				"-trustDomainBundlePath", bundle, "-trustDomainBundleFormat", "spiffe"); err != nil {
				return nil, err
			}
			if _, err := local.run("federation", "refresh", "-socketPath", local.ServerSocket, "-id", peer.TrustDomain.IDString()); err != nil {
				return nil, err
			}
		}
		return &struct{}{}, nil
	})
	if err != nil {
		t.Fatalf("federate %s with %s: %v", a.TrustDomain, b.TrustDomain, err)
	}
}

// CreateFederatedEntry is CreateEntry for an entry that federates with
// the trust domains tds: the Workload API gives its workloads their
// bundles too. It waits for the SVID and for those bundles.
func (s *SPIRE) CreateFederatedEntry(t testing.TB, id spiffeid.ID, tds []spiffeid.TrustDomain, selectors ...string) {
	t.Helper()
	s.createEntry(t, id, 0, tds, selectors)
	for _, td := range tds {
		s.WaitForBundle(t, td)
	}
}

// WaitForBundle waits until the Workload API gives this process the X.509
// bundle of td.
func (s *SPIRE) WaitForBundle(t testing.TB, td spiffeid.TrustDomain) {
	t.Helper()
	s.waitWorkload(t, "bundle of "+td.String(), 30*time.Second, func(ctx context.Context, c *workloadapi.Client) (bool, error) {
		set, err := c.FetchX509Bundles(ctx)
		if err != nil {
			return false, err
		}
		_, ok := set.Get(td)
		return ok, nil
	})
}
