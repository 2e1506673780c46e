package aat

import (
	"context"
	"fmt"

	"github.com/aip-project/aip/issuer/signer"
)

// KeySource gives the verification keys of an issuer.
type KeySource interface {
	// Key returns the key kid of issuer iss, or an error wrapping
	// ErrUnknownKey (no such key) or ErrKeysUnavailable (cannot tell now).
	Key(ctx context.Context, iss, kid string) (signer.Key, error)
}

// StaticKeys is a KeySource over a fixed list of keys, whatever the issuer:
// for keys configured by hand and for tests.
type StaticKeys []signer.Key

// Key returns the key with ID kid.
func (s StaticKeys) Key(_ context.Context, _, kid string) (signer.Key, error) {
	for _, k := range s {
		if k.ID == kid {
			return k, nil
		}
	}
	return signer.Key{}, fmt.Errorf("%w: %q", ErrUnknownKey, kid)
}

// SignerKeys is a KeySource over the keys a Signer publishes: the issuer
// checking its own tokens.
type SignerKeys struct{ Signer signer.Signer }

// Key returns the published key with ID kid.
func (s SignerKeys) Key(ctx context.Context, iss, kid string) (signer.Key, error) {
	keys, err := s.Signer.PublicKeys(ctx)
	if err != nil {
		return signer.Key{}, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return StaticKeys(keys).Key(ctx, iss, kid)
}
