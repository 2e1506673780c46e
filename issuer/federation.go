package issuer

import (
	"context"
	"crypto"
	"crypto/tls"
	"fmt"
	"net"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/issuer/config"
)

// agentBundles returns the bundles agent SVIDs are verified with: the
// Workload API's and, with federation configured, the bundles watched
// from the peers' endpoints (started here, stopped by Close). Only the
// issuer's own trust domain and the configured peers are answered, even
// if SPIRE federates this workload with more.
func (is *Issuer) agentBundles(ctx context.Context, cfg *config.Config, x509src *workloadapi.X509Source, jwtsrc *workloadapi.JWTSource) (x509bundle.Source, jwtbundle.Source, error) {
	own, err := spiffeid.TrustDomainFromString(cfg.SPIFFE.TrustDomain)
	if err != nil {
		return nil, nil, fmt.Errorf("spiffe.trust_domain: %w", err)
	}
	x := &federation.Bundles{X509: []x509bundle.Source{x509src}, TrustDomains: []spiffeid.TrustDomain{own}}
	j := &federation.Bundles{JWT: []jwtbundle.Source{jwtsrc}, TrustDomains: x.TrustDomains}
	if cfg.Federation == nil || len(cfg.Federation.FederatesWith) == 0 {
		return x, j, nil
	}
	w, err := federation.NewWatcher(federation.WatcherConfig{Peers: cfg.Federation.FederatesWith, Trust: x509src, Logger: is.log})
	if err != nil {
		return nil, nil, err
	}
	// The watches outlive New's ctx: they run until Close.
	w.Start(context.WithoutCancel(ctx))
	is.closers = append(is.closers, w.Close)
	x.X509 = append(x.X509, w)
	j.JWT = append(j.JWT, w)
	x.TrustDomains = append(x.TrustDomains, w.TrustDomains()...)
	j.TrustDomains = x.TrustDomains
	return x, j, nil
}

// newBundleEndpoint builds the configured bundle endpoint: the issuer's
// trust domain's X.509 authorities and its AAT signing keys as JWT
// authorities, served with its SVID (https_spiffe) or a certificate
// (https_web).
func (is *Issuer) newBundleEndpoint(cfg *config.Config, x509src *workloadapi.X509Source) error {
	ec := cfg.Federation.BundleEndpoint
	own, err := spiffeid.TrustDomainFromString(cfg.SPIFFE.TrustDomain)
	if err != nil {
		return fmt.Errorf("spiffe.trust_domain: %w", err)
	}
	pub, err := federation.NewPublisher(federation.PublisherConfig{TrustDomain: own, X509: x509src,
		JWTKeys: is.aatKeys, RefreshHint: ec.RefreshHint})
	if err != nil {
		return err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch ec.Profile {
	case federation.ProfileSPIFFE:
		tc.GetCertificate = tlsconfig.GetCertificate(x509src)
	default:
		cert, err := tls.LoadX509KeyPair(ec.CertFile, ec.KeyFile)
		if err != nil {
			return fmt.Errorf("federation.bundle_endpoint: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	is.bundleEndpoint, err = federation.NewEndpoint(own, pub, tc, is.log)
	return err
}

// aatKeys are the signer's published keys by kid.
func (is *Issuer) aatKeys(ctx context.Context) (map[string]crypto.PublicKey, error) {
	keys, err := is.Signer.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]crypto.PublicKey, len(keys))
	for _, k := range keys {
		out[k.ID] = k.Public
	}
	return out, nil
}

// ServeBundleEndpoint serves the bundle endpoint on ln until ctx is done;
// it fails when none is configured.
func (is *Issuer) ServeBundleEndpoint(ctx context.Context, ln net.Listener) error {
	if is.bundleEndpoint == nil {
		return fmt.Errorf("no bundle endpoint configured (federation.bundle_endpoint)")
	}
	return is.bundleEndpoint.Serve(ctx, ln)
}

// runBundleEndpoint listens on the configured bundle endpoint address, if
// any, and serves it in the background until ctx is done or stop is
// called; stop returns once it has stopped.
func (is *Issuer) runBundleEndpoint(ctx context.Context) (stop func(), err error) {
	if is.bundleEndpoint == nil {
		return func() {}, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", is.cfg.Federation.BundleEndpoint.Listen)
	if err != nil {
		return nil, fmt.Errorf("bundle endpoint: listen: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := is.bundleEndpoint.Serve(ctx, ln); err != nil {
			is.log.Error("bundle endpoint stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
