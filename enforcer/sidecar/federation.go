package sidecar

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/keypath"
	"github.com/aip-project/aip/internal/svid"
)

// FederationFile is the federation section: the federated trust domains
// whose bundles the enforcer watches.
type FederationFile struct {
	FederatesWith []federation.PeerFile `yaml:"federates_with"`
}

// firstFetchWait bounds how long New waits for the bundles of issuers
// trusted by bundle; until fetched, their tokens are refused as
// "keys unavailable" (fail closed).
const firstFetchWait = 10 * time.Second

// validateFederation checks the section, the issuers trusted by bundle and
// the issuers' SPIFFE IDs (in, as written; out, converted by
// validateIssuers).
func validateFederation(ps *keypath.Problems, f *FederationFile, in []IssuerFile, out []Issuer, tlsMode string) []federation.Peer {
	var peers []federation.Peer
	if f != nil {
		if len(f.FederatesWith) == 0 {
			ps.Add("federation.federates_with", "at least one federated trust domain (or remove the section)")
		}
		peers = federation.ValidatePeers(ps, "federation.federates_with", f.FederatesWith)
	}
	for i, is := range in {
		p := keypath.Index("issuers", i)
		if is.SPIFFEID != "" && i < len(out) {
			id, err := spiffeid.FromString(is.SPIFFEID)
			switch {
			case err != nil:
				ps.Add(p+".spiffe_id", "must be a SPIFFE ID such as spiffe://example.org/aip/issuer")
			case tlsMode != TLSModeSPIFFE:
				ps.Add(p+".spiffe_id", "needs tls.mode spiffe (the bundles that check the issuer's SVID)")
			}
			out[i].SPIFFEID = id
		}
		if is.BundleTrustDomain == "" || i >= len(out) {
			continue
		}
		if is.JWKSURL != "" {
			ps.Add(p, "set jwks_url or bundle_trust_domain, not both")
		}
		td, err := spiffeid.TrustDomainFromString(is.BundleTrustDomain)
		if err != nil {
			ps.Add(p+".bundle_trust_domain", "must be a trust domain name such as example.org")
			continue
		}
		found := false
		for _, peer := range peers {
			found = found || peer.TrustDomain == td
		}
		if !found {
			ps.Add(p+".bundle_trust_domain", "must name a trust domain of federation.federates_with (the issuer's bundle endpoint)")
		}
		out[i].JWKSURL, out[i].BundleTrustDomain = "", td
	}
	return peers
}

// openIssuerKeys returns each trusted issuer's key source (its JWKS, or
// the bundle its endpoint serves) and the client that reaches the issuers
// (hc, or issuerClient when nil). It opens the Workload API source (tls
// mode spiffe) and starts the federation watcher first, both closed by
// Close, and waits a little for the bundles of issuers trusted by bundle.
func (s *Server) openIssuerKeys(ctx context.Context, cfg *Config, hc *http.Client) (map[string]aat.KeySource, *http.Client, error) {
	if cfg.TLS.Mode == TLSModeSPIFFE {
		var own spiffeid.ID
		if cfg.TLS.SPIFFEID != "" {
			var err error
			if own, err = spiffeid.FromString(cfg.TLS.SPIFFEID); err != nil {
				return nil, nil, fmt.Errorf("tls.spiffe_id: %w", err)
			}
		}
		src, err := svid.NewX509Source(ctx, cfg.TLS.WorkloadAPIAddr, own)
		if err != nil {
			return nil, nil, err
		}
		s.x509 = src
		s.closers = append(s.closers, src.Close)
	}
	if len(cfg.Federation) > 0 {
		wc := federation.WatcherConfig{Peers: cfg.Federation, Logger: s.log}
		if s.x509 != nil {
			wc.Trust = s.x509
		}
		w, err := federation.NewWatcher(wc)
		if err != nil {
			return nil, nil, err
		}
		w.Start(context.WithoutCancel(ctx))
		s.closers = append(s.closers, w.Close)
		s.federation = w
	}
	if hc == nil {
		var bundles x509bundle.Source
		if s.x509 != nil {
			bundles = s.x509Bundles()
		}
		hc = issuerClient(cfg.Issuers, bundles)
	}
	keys := make(map[string]aat.KeySource, len(cfg.Issuers))
	var byBundle []spiffeid.TrustDomain
	for _, is := range cfg.Issuers {
		if !is.BundleTrustDomain.IsZero() {
			if s.federation == nil {
				return nil, nil, fmt.Errorf("issuer %s: trusted by bundle but no federation configured", is.Issuer)
			}
			keys[is.Issuer] = federation.IssuerKeys{Watcher: s.federation, TrustDomain: is.BundleTrustDomain}
			byBundle = append(byBundle, is.BundleTrustDomain)
			continue
		}
		src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: is.JWKSURL, Client: hc, Now: s.now})
		if err != nil {
			return nil, nil, fmt.Errorf("issuer %s: %w", is.Issuer, err)
		}
		keys[is.Issuer] = src
	}
	if len(byBundle) > 0 {
		wctx, cancel := context.WithTimeout(ctx, firstFetchWait)
		defer cancel()
		if err := s.federation.WaitFetched(wctx, byBundle...); err != nil {
			s.log.Warn("issuer bundle not fetched yet; its tokens are refused until it is", "err", err)
		}
	}
	return keys, hc, nil
}

// x509Bundles are the bundles client SVIDs are verified with: the
// Workload API's and the watched ones. Which trust domains may connect is
// tls.trust_domains' business (idMatcher).
func (s *Server) x509Bundles() x509bundle.Source {
	if s.federation == nil {
		return s.x509
	}
	return &federation.Bundles{X509: []x509bundle.Source{s.x509, s.federation}}
}
