package jwk

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of a public key,
// base64url without padding (the form of a kid, a DPoP jkt and an AIP
// public_key_thumbprint). Only the required members take part (RFC 8037 for
// Ed25519: crv, kty, x; for EC: crv, kty, x, y).
func Thumbprint(pub crypto.PublicKey) (string, error) {
	if _, err := Algorithm(pub); err != nil {
		return "", err
	}
	k := jose.JSONWebKey{Key: pub}
	sum, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwk thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// Equal compares two thumbprints (or any two base64url hashes) in constant
// time. Empty values never match.
func Equal(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// HashB64 returns base64url(SHA-256(b)), the form of a DPoP ath, an x5t#S256
// and the aip body hash.
func HashB64(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
