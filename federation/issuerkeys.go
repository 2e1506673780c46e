package federation

import (
	"context"
	"fmt"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

// IssuerKeys is an aat.KeySource over the JWT authorities of the bundle
// an issuer publishes on its bundle endpoint (Publisher), as a Watcher
// last fetched it: an enforcer trusting an issuer "by bundle". A bundle
// that was only bootstrapped holds no AAT key, so until the first fetch
// the keys are unavailable (fail closed, not a bad signature).
type IssuerKeys struct {
	Watcher     *Watcher
	TrustDomain spiffeid.TrustDomain
}

var _ aat.KeySource = IssuerKeys{}

// Key returns the JWT authority kid of the fetched bundle.
func (k IssuerKeys) Key(_ context.Context, _, kid string) (signer.Key, error) {
	b := k.Watcher.Fetched(k.TrustDomain)
	if b == nil {
		return signer.Key{}, fmt.Errorf("%w: bundle of %s not fetched yet", aat.ErrKeysUnavailable, k.TrustDomain)
	}
	pub, ok := b.FindJWTAuthority(kid)
	if !ok {
		return signer.Key{}, fmt.Errorf("%w: %q not in the bundle of %s", aat.ErrUnknownKey, kid, k.TrustDomain)
	}
	alg, err := jwk.Algorithm(pub)
	if err != nil {
		return signer.Key{}, fmt.Errorf("%w: %q in the bundle of %s: %w", aat.ErrUnknownKey, kid, k.TrustDomain, err)
	}
	return signer.Key{ID: kid, Algorithm: alg, Public: pub}, nil
}
