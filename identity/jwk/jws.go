package jwk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	input := make([]byte, 0, enc.EncodedLen(len(h))+1+enc.EncodedLen(len(p))+1+enc.EncodedLen(SignatureSize))
	input = enc.AppendEncode(input, h)
	input = append(input, '.')
	input = enc.AppendEncode(input, p)
	sig, err := s.Sign(ctx, k.ID, input)
	if err != nil {
		return "", fmt.Errorf("sign with %s: %w", k.ID, err)
	}
	if len(sig) != SignatureSize {
		return "", fmt.Errorf("sign with %s: signature of %d bytes, want %d", k.ID, len(sig), SignatureSize)
	}
	out := append(input, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}
