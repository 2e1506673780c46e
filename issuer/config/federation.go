package config

import (
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/internal/keypath"
)

// FederationFile is the federation section: the bundle endpoint the issuer
// serves and the trust domains whose agents it accepts.
type FederationFile struct {
	BundleEndpoint *federation.EndpointFile `yaml:"bundle_endpoint"`
	FederatesWith  []federation.PeerFile    `yaml:"federates_with"`
}

// Federation is the validated federation section.
type Federation struct {
	// BundleEndpoint, when set, serves the issuer's trust domain bundle
	// with its AAT signing keys as JWT authorities.
	BundleEndpoint *federation.EndpointConfig
	// FederatesWith are the trust domains, besides the issuer's own, whose
	// agents may authenticate (mTLS or JWT-SVID), each with its bundle
	// endpoint.
	FederatesWith []federation.Peer
}

func validateFederation(p *keypath.Problems, f *FederationFile, s *SPIFFEFile) *Federation {
	if f == nil {
		return nil
	}
	if s == nil {
		p.Add("federation", "needs the spiffe section (the issuer's own trust domain and Workload API)")
	}
	out := &Federation{
		BundleEndpoint: federation.ValidateEndpoint(p, "federation.bundle_endpoint", f.BundleEndpoint),
		FederatesWith:  federation.ValidatePeers(p, "federation.federates_with", f.FederatesWith),
	}
	if s != nil {
		own, err := spiffeid.TrustDomainFromString(s.TrustDomain)
		for i, peer := range out.FederatesWith {
			if err == nil && peer.TrustDomain == own {
				p.Add(keypath.Index("federation.federates_with", i)+".trust_domain", "is the issuer's own trust domain")
			}
		}
	}
	if out.BundleEndpoint == nil && len(out.FederatesWith) == 0 {
		p.Add("federation", "set bundle_endpoint, federates_with or both (or remove the section)")
	}
	return out
}
