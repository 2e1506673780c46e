package federation

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Bundles merges bundle sources, e.g. the Workload API's (the own trust
// domain, and those SPIRE federates with) and a Watcher's: a trust
// domain's authorities are those of every source that has a bundle for
// it, so a rotation seen by one source first is accepted at once. It is an
// x509bundle.Source and a jwtbundle.Source.
type Bundles struct {
	X509 []x509bundle.Source
	JWT  []jwtbundle.Source
	// TrustDomains, when not nil, are the only trust domains answered:
	// a bundle a source holds for any other is not used.
	TrustDomains []spiffeid.TrustDomain
}

var (
	_ x509bundle.Source = (*Bundles)(nil)
	_ jwtbundle.Source  = (*Bundles)(nil)
)

func (b *Bundles) allowed(td spiffeid.TrustDomain) error {
	if b.TrustDomains != nil && !slices.Contains(b.TrustDomains, td) {
		return fmt.Errorf("%w %s: not a trusted trust domain", ErrNoBundle, td)
	}
	return nil
}

// GetX509BundleForTrustDomain merges the X.509 authorities of td.
func (b *Bundles) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	if err := b.allowed(td); err != nil {
		return nil, err
	}
	var found []*x509bundle.Bundle
	var errs []error
	for _, s := range b.X509 {
		if s == nil {
			continue
		}
		xb, err := s.GetX509BundleForTrustDomain(td)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, xb)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w %s: %v", ErrNoBundle, td, errs)
	case 1:
		return found[0], nil
	}
	var certs []*x509.Certificate
	for _, xb := range found {
		for _, c := range xb.X509Authorities() {
			if !slices.ContainsFunc(certs, c.Equal) {
				certs = append(certs, c)
			}
		}
	}
	return x509bundle.FromX509Authorities(td, certs), nil
}

// GetJWTBundleForTrustDomain merges the JWT authorities of td; on a key
// id held by several sources with different keys, the first source wins.
func (b *Bundles) GetJWTBundleForTrustDomain(td spiffeid.TrustDomain) (*jwtbundle.Bundle, error) {
	if err := b.allowed(td); err != nil {
		return nil, err
	}
	var found []*jwtbundle.Bundle
	var errs []error
	for _, s := range b.JWT {
		if s == nil {
			continue
		}
		jb, err := s.GetJWTBundleForTrustDomain(td)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		found = append(found, jb)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w %s: %v", ErrNoBundle, td, errs)
	case 1:
		return found[0], nil
	}
	keys := map[string]crypto.PublicKey{}
	for _, jb := range found {
		for kid, k := range jb.JWTAuthorities() {
			if _, ok := keys[kid]; !ok {
				keys[kid] = k
			}
		}
	}
	return jwtbundle.FromJWTAuthorities(td, keys), nil
}
