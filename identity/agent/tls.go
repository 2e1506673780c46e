package agent

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
)

// baseTransport is a clone of http.DefaultTransport that, with an
// X509Source, presents the agent's X509-SVID and checks the server's.
func baseTransport(cfg Config) (http.RoundTripper, error) {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("agent: http.DefaultTransport is not an *http.Transport; set Config.Base")
	}
	tr := dt.Clone()
	if cfg.X509Source == nil {
		return tr, nil
	}
	bundles := cfg.X509Bundles
	if bundles == nil {
		b, ok := cfg.X509Source.(x509bundle.Source)
		if !ok {
			return nil, errors.New("agent config: X509Bundles: required when X509Source is not a bundle source")
		}
		bundles = b
	}
	authz := cfg.ServerAuthorizer
	if authz == nil {
		svid, err := cfg.X509Source.GetX509SVID()
		if err != nil {
			return nil, fmt.Errorf("agent: x509-svid: %w", err)
		}
		authz = tlsconfig.AuthorizeMemberOf(svid.ID.TrustDomain())
	}
	tr.TLSClientConfig = tlsconfig.MTLSClientConfig(cfg.X509Source, bundles, authz)
	return tr, nil
}
