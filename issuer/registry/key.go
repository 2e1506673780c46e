package registry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// CheckPublicKey reports whether k is an acceptable agent key: a valid
// public Ed25519 or ECDSA P-256 key, with alg and use consistent with it
// when they are set.
func CheckPublicKey(k *jose.JSONWebKey) error {
	if k == nil || k.Key == nil || !k.Valid() {
		return fmt.Errorf("%w: public_key: missing or malformed", ErrInvalid)
	}
	if !k.IsPublic() {
		return fmt.Errorf("%w: public_key: must not hold private key material", ErrInvalid)
	}
	var alg string
	switch key := k.Key.(type) {
	case ed25519.PublicKey:
		alg = string(jose.EdDSA)
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return fmt.Errorf("%w: public_key: only the P-256 curve is accepted", ErrInvalid)
		}
		alg = string(jose.ES256)
	default:
		return fmt.Errorf("%w: public_key: type %T not accepted (Ed25519 or P-256 only)", ErrInvalid, k.Key)
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return fmt.Errorf("%w: public_key: alg %q does not match the key type (%s)", ErrInvalid, k.Algorithm, alg)
	}
	if k.Use != "" && k.Use != "sig" {
		return fmt.Errorf("%w: public_key: use %q, want sig", ErrInvalid, k.Use)
	}
	return nil
}

// ParsePublicKey decodes a JWK and checks it with CheckPublicKey.
func ParsePublicKey(data []byte) (*jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("%w: public_key: %w", ErrInvalid, err)
	}
	if err := CheckPublicKey(&k); err != nil {
		return nil, err
	}
	return &k, nil
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of k, base64url
// encoded without padding (the form of DPoP's "jkt").
func Thumbprint(k *jose.JSONWebKey) (string, error) {
	if err := CheckPublicKey(k); err != nil {
		return "", err
	}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("%w: public_key: thumbprint: %w", ErrInvalid, err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
