package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// The JWS algorithms aip signs and accepts. Nothing else is ever accepted:
// not "none", not HMAC, not RSA.
const (
	EdDSA = string(jose.EdDSA)
	ES256 = string(jose.ES256)
)

// ErrUnsupportedKey means a key is neither Ed25519 nor ECDSA P-256, or does
// not match the algorithm it is used with.
var ErrUnsupportedKey = errors.New("unsupported key")

// Algorithms is the allowlist to hand to go-jose's parsers.
func Algorithms() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256}
}

// Algorithm returns the JWS algorithm for a public key: EdDSA for Ed25519,
// ES256 for ECDSA P-256. Any other key is ErrUnsupportedKey.
func Algorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("%w: ed25519 key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return EdDSA, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return "", fmt.Errorf("%w: ecdsa key not on P-256", ErrUnsupportedKey)
		}
		return ES256, nil
	default:
		return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
}

// CheckAlgorithm reports an error unless alg is the algorithm of pub, so a
// header can never make a key be used with another algorithm.
func CheckAlgorithm(alg string, pub crypto.PublicKey) error {
	want, err := Algorithm(pub)
	if err != nil {
		return err
	}
	if alg != want {
		return fmt.Errorf("%w: %s key used with alg %q", ErrUnsupportedKey, want, alg)
	}
	return nil
}

// SignatureSize is the size of a raw JWS signature for both algorithms:
// 64 bytes (Ed25519, or r||s of 32 bytes each for ES256).
const SignatureSize = 64
