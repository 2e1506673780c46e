package federation

import (
	"context"
	"fmt"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
)

// RefreshWait bounds how long IssuerKeys.Key waits for an early fetch of
// the bundle when a token names a key it lacks.
const RefreshWait = 2 * time.Second

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

// Key returns the JWT authority kid of the fetched bundle. A kid the
// bundle lacks (the issuer rotated its keys since the last fetch) makes
// the watcher fetch the bundle again before its refresh is due (at most
// once per MinForcedRefresh) and looks again, waiting at most
// RefreshWait.
func (k IssuerKeys) Key(ctx context.Context, _, kid string) (jwk.Key, error) {
	b := k.Watcher.Fetched(k.TrustDomain)
	if b == nil {
		return jwk.Key{}, fmt.Errorf("%w: bundle of %s not fetched yet", aat.ErrKeysUnavailable, k.TrustDomain)
	}
	pub, ok := b.FindJWTAuthority(kid)
	if !ok {
		rctx, cancel := context.WithTimeout(ctx, RefreshWait)
		err := k.Watcher.Refresh(rctx, k.TrustDomain)
		cancel()
		if err == nil {
			b = k.Watcher.Fetched(k.TrustDomain)
			pub, ok = b.FindJWTAuthority(kid)
		}
	}
	if !ok {
		return jwk.Key{}, fmt.Errorf("%w: %q not in the bundle of %s", aat.ErrUnknownKey, kid, k.TrustDomain)
	}
	alg, err := jwk.Algorithm(pub)
	if err != nil {
		return jwk.Key{}, fmt.Errorf("%w: %q in the bundle of %s: %w", aat.ErrUnknownKey, kid, k.TrustDomain, err)
	}
	return jwk.Key{ID: kid, Algorithm: alg, Public: pub}, nil
}
