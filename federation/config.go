package federation

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/internal/keypath"
)

// Bundle endpoint profiles (SPIFFE Trust Domain and Bundle §5.2).
const (
	// ProfileSPIFFE authenticates the endpoint by its X509-SVID, checked
	// against the peer's own bundle (bootstrap, then each fetched one).
	ProfileSPIFFE = "https_spiffe"
	// ProfileWeb authenticates the endpoint by a Web PKI certificate.
	ProfileWeb = "https_web"
)

// PeerFile is a federated trust domain as an operator writes it.
type PeerFile struct {
	TrustDomain       string `yaml:"trust_domain"`
	BundleEndpointURL string `yaml:"bundle_endpoint_url"`
	Profile           string `yaml:"profile"`
	// EndpointSPIFFEID is the SPIFFE ID the endpoint serves (https_spiffe
	// only), e.g. spiffe://b.example/spire/server.
	EndpointSPIFFEID string `yaml:"endpoint_spiffe_id"`
	// BootstrapBundle is a file holding the peer's bundle in the SPIFFE
	// format (`spire-server bundle show -format spiffe`), used until the
	// first fetch and to authenticate an https_spiffe endpoint.
	BootstrapBundle string `yaml:"bootstrap_bundle"`
	// CAFile holds the roots that authenticate an https_web endpoint
	// instead of the system's (PEM).
	CAFile string `yaml:"ca_file"`
}

// Peer is a validated federated trust domain.
type Peer struct {
	TrustDomain       spiffeid.TrustDomain
	BundleEndpointURL string
	Profile           string
	EndpointID        spiffeid.ID          // https_spiffe
	Bootstrap         *spiffebundle.Bundle // nil: none
	Roots             *x509.CertPool       // https_web; nil: the system's
}

// ValidatePeers checks the peers under path (e.g. "federation.federates_with"),
// reads their bootstrap bundles and CA files, and reports every problem.
func ValidatePeers(ps *keypath.Problems, path string, in []PeerFile) []Peer {
	out := make([]Peer, 0, len(in))
	seen := map[string]bool{}
	for i, f := range in {
		p := keypath.Index(path, i)
		var peer Peer
		td, err := spiffeid.TrustDomainFromString(f.TrustDomain)
		switch {
		case f.TrustDomain == "" || err != nil:
			ps.Add(p+".trust_domain", "must be a trust domain name such as example.org")
		case seen[td.Name()]:
			ps.Add(p+".trust_domain", "listed twice")
		}
		seen[td.Name()] = true
		peer.TrustDomain = td
		peer.BundleEndpointURL = checkEndpointURL(ps, p+".bundle_endpoint_url", f.BundleEndpointURL)
		peer.Profile = f.Profile
		switch f.Profile {
		case ProfileSPIFFE:
			id, err := spiffeid.FromString(f.EndpointSPIFFEID)
			if err != nil {
				ps.Add(p+".endpoint_spiffe_id", "is required for https_spiffe: the endpoint's SPIFFE ID, e.g. spiffe://%s/spire/server", orExample(f.TrustDomain))
			}
			peer.EndpointID = id
			if f.CAFile != "" {
				ps.Add(p+".ca_file", "applies to profile https_web only")
			}
		case ProfileWeb:
			if f.EndpointSPIFFEID != "" {
				ps.Add(p+".endpoint_spiffe_id", "applies to profile https_spiffe only")
			}
			if f.CAFile != "" {
				peer.Roots = readRoots(ps, p+".ca_file", f.CAFile)
			}
		default:
			ps.Add(p+".profile", "must be https_spiffe or https_web")
		}
		if f.BootstrapBundle != "" && err == nil && !td.IsZero() {
			b, err := spiffebundle.Load(td, f.BootstrapBundle)
			if err != nil {
				ps.Add(p+".bootstrap_bundle", "cannot be read as a SPIFFE bundle: %v", err)
			} else if len(b.X509Authorities()) == 0 {
				ps.Add(p+".bootstrap_bundle", "holds no X.509 authority")
			}
			peer.Bootstrap = b
		}
		out = append(out, peer)
	}
	return out
}

func orExample(td string) string {
	if td == "" {
		return "example.org"
	}
	return td
}

// checkEndpointURL requires an https URL without credentials, query or
// fragment.
func checkEndpointURL(ps *keypath.Problems, path, raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		ps.Add(path, "is required")
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		ps.Add(path, "must be an https URL without credentials, query or fragment")
	}
	return raw
}

func readRoots(ps *keypath.Problems, path, file string) *x509.CertPool {
	b, err := os.ReadFile(file)
	if err != nil {
		ps.Add(path, "cannot be read")
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		ps.Add(path, "holds no PEM certificate")
		return nil
	}
	return pool
}

// EndpointFile is the bundle endpoint an issuer serves, as written.
type EndpointFile struct {
	Listen string `yaml:"listen"`
	// Profile is https_spiffe (serve the issuer's X509-SVID) or https_web
	// (serve cert_file and key_file).
	Profile  string `yaml:"profile"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// RefreshHint is put in the served bundle: how often peers should
	// fetch it again. Key rotations reach enforcers within it.
	RefreshHint string `yaml:"refresh_hint"`
}

// EndpointConfig is a validated bundle endpoint.
type EndpointConfig struct {
	Listen            string
	Profile           string
	CertFile, KeyFile string
	RefreshHint       time.Duration
}

// DefaultRefreshHint is the refresh hint an issuer's bundle endpoint
// serves when none is configured.
const DefaultRefreshHint = time.Minute

// ValidateEndpoint checks the endpoint under path; nil in, nil out.
func ValidateEndpoint(ps *keypath.Problems, path string, e *EndpointFile) *EndpointConfig {
	if e == nil {
		return nil
	}
	out := &EndpointConfig{Listen: e.Listen, Profile: e.Profile, CertFile: e.CertFile, KeyFile: e.KeyFile, RefreshHint: DefaultRefreshHint}
	if _, _, err := net.SplitHostPort(e.Listen); err != nil || e.Listen == "" {
		ps.Add(path+".listen", "must be host:port")
	}
	switch e.Profile {
	case ProfileSPIFFE:
		if e.CertFile != "" || e.KeyFile != "" {
			ps.Add(path, "cert_file and key_file apply to profile https_web only (https_spiffe serves the issuer's SVID)")
		}
	case ProfileWeb:
		if e.CertFile == "" || e.KeyFile == "" {
			ps.Add(path, "profile https_web needs cert_file and key_file")
		}
	default:
		ps.Add(path+".profile", "must be https_spiffe or https_web")
	}
	if e.RefreshHint != "" {
		d, err := time.ParseDuration(e.RefreshHint)
		if err != nil || d < time.Second || d > 24*time.Hour {
			ps.Add(path+".refresh_hint", "must be a duration between 1s and 24h, e.g. 1m")
		} else {
			out.RefreshHint = d
		}
	}
	return out
}

// String names the peer in logs and errors.
func (p Peer) String() string {
	return fmt.Sprintf("%s (%s %s)", p.TrustDomain, p.Profile, p.BundleEndpointURL)
}
