package sidecar

import (
	"context"
	"crypto/tls"
	"fmt"
	"path"
	"slices"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"

	"github.com/aip-project/aip/internal/svid"
)

// spiffeTLS returns the mTLS server configuration: the enforcer's own
// X509-SVID from the Workload API (rotated by the source without a
// restart), client SVIDs verified against the bundles, and only the
// configured trust domains and ID patterns admitted.
func spiffeTLS(ctx context.Context, t TLS) (*tls.Config, func() error, error) {
	var own spiffeid.ID
	if t.SPIFFEID != "" {
		var err error
		if own, err = spiffeid.FromString(t.SPIFFEID); err != nil {
			return nil, nil, fmt.Errorf("tls.spiffe_id: %w", err)
		}
	}
	src, err := svid.NewX509Source(ctx, t.WorkloadAPIAddr, own)
	if err != nil {
		return nil, nil, err
	}
	cfg := tlsconfig.MTLSServerConfig(src, src, tlsconfig.AdaptMatcher(idMatcher(t)))
	cfg.MinVersion = tls.VersionTLS12
	return cfg, src.Close, nil
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
