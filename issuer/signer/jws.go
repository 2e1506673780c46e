package signer

import (
	"context"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/jwk"
)

// JWKS returns the key set to serve at /.well-known/jwks.json: every key
// s publishes, current first, with kid, alg and use "sig".
func JWKS(ctx context.Context, s Signer) (jose.JSONWebKeySet, error) {
	keys, err := s.PublicKeys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("public keys: %w", err)
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		if err := jwk.CheckAlgorithm(k.Algorithm, k.Public); err != nil {
			return jose.JSONWebKeySet{}, fmt.Errorf("key %s: %w", k.ID, err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key:       k.Public,
			KeyID:     k.ID,
			Algorithm: k.Algorithm,
			Use:       "sig",
		})
	}
	return set, nil
}
