package sidecar

import (
	"crypto/tls"
	"fmt"
	"path"
	"slices"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// spiffeTLS returns the mTLS server configuration: the enforcer's own
// X509-SVID from src (rotated by the source without a restart), client
// SVIDs verified against bundles (the Workload API's and the federated
// ones), and only the configured trust domains and ID patterns admitted.
func spiffeTLS(t TLS, src x509svid.Source, bundles x509bundle.Source) *tls.Config {
	cfg := tlsconfig.MTLSServerConfig(src, bundles, tlsconfig.AdaptMatcher(idMatcher(t)))
	cfg.MinVersion = tls.VersionTLS12
	return cfg
}

// idMatcher admits SPIFFE IDs of the configured trust domains that match
// one of the ID patterns (any, when none is configured).
func idMatcher(t TLS) spiffeid.Matcher {
	return func(id spiffeid.ID) error {
		if !slices.Contains(t.TrustDomains, id.TrustDomain().Name()) {
			return fmt.Errorf("spiffe id %s: trust domain not allowed", id)
		}
		if len(t.IDPatterns) == 0 {
			return nil
		}
		for _, p := range t.IDPatterns {
			if ok, _ := path.Match(p, id.String()); ok {
				return nil
			}
		}
		return fmt.Errorf("spiffe id %s: matches no allowed id pattern", id)
	}
}
