package aat

import (
	"context"
	"fmt"

	"github.com/aip-project/aip/identity/jwk"
)

// KeySource gives the verification keys of an issuer.
type KeySource interface {
	// Key returns the key kid of issuer iss, or an error wrapping
	// ErrUnknownKey (no such key) or ErrKeysUnavailable (cannot tell now).
	Key(ctx context.Context, iss, kid string) (jwk.Key, error)
}

// StaticKeys is a KeySource over a fixed list of keys, whatever the issuer:
// for keys configured by hand and for tests.
type StaticKeys []jwk.Key

// Key returns the key with ID kid.
func (s StaticKeys) Key(_ context.Context, _, kid string) (jwk.Key, error) {
	for _, k := range s {
		if k.ID == kid {
			return k, nil
		}
	}
	return jwk.Key{}, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
}

// Publisher lists the keys an issuer publishes, current first; the issuer's
// signers (issuer/signer) are ones.
type Publisher interface {
	PublicKeys(ctx context.Context) ([]jwk.Key, error)
}

// SignerKeys is a KeySource over the keys a Signer publishes: the issuer
// checking its own tokens.
type SignerKeys struct{ Signer Publisher }

// Key returns the published key with ID kid.
func (s SignerKeys) Key(ctx context.Context, iss, kid string) (jwk.Key, error) {
	keys, err := s.Signer.PublicKeys(ctx)
	if err != nil {
		return jwk.Key{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return StaticKeys(keys).Key(ctx, iss, kid)
}
