package signer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/jwk"
)

// header is the protected header of every JWS aip signs.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ,omitempty"`
}

// SignJWS signs claims (anything encoding/json accepts; a json.RawMessage
// is used as is) as a compact JWS with the current key of s. The protected
// header is {"alg", "kid", "typ"}; typ is e.g. "aat+jwt".
func SignJWS(ctx context.Context, s Signer, typ string, claims any) (string, error) {
	k, err := s.Current(ctx)
	if err != nil {
		return "", fmt.Errorf("current signing key: %w", err)
	}
	if k.Algorithm != EdDSA && k.Algorithm != ES256 {
		return "", fmt.Errorf("signing key %s: algorithm %q not allowed", k.ID, k.Algorithm)
	}
	h, err := json.Marshal(header{Alg: k.Algorithm, Kid: k.ID, Typ: typ})
	if err != nil {
		return "", fmt.Errorf("encode jws header: %w", err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode jws payload: %w", err)
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(h))+1+enc.EncodedLen(len(p))+1+enc.EncodedLen(jwk.SignatureSize))
	input = enc.AppendEncode(input, h)
	input = append(input, '.')
	input = enc.AppendEncode(input, p)
	sig, err := s.Sign(ctx, k.ID, input)
	if err != nil {
		return "", fmt.Errorf("sign with %s: %w", k.ID, err)
	}
	if len(sig) != jwk.SignatureSize {
		return "", fmt.Errorf("sign with %s: signature of %d bytes, want %d", k.ID, len(sig), jwk.SignatureSize)
	}
	out := append(input, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

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
