// Package signer holds the issuer's signing keys behind one interface, with
// two implementations: Vault transit (production: keys never leave Vault)
// and a local key file (the embedded single-machine default).
//
// It never logs or returns private key material.
package signer

import (
	"context"
	"errors"

	"github.com/aip-project/aip/identity/jwk"
)

// Algorithms a Signer may use (JOSE names).
const (
	EdDSA = jwk.EdDSA
	ES256 = jwk.ES256
)

// ErrUnavailable means the key backend (e.g. Vault) cannot be reached; the
// issuer answers 503 and signs nothing.
var ErrUnavailable = errors.New("signing backend unavailable")

// Key is a public verification key (kid, algorithm, public key). It is
// jwk.Key, so that verifiers (the enforcer) need not import the issuer.
type Key = jwk.Key

// Signer signs JWS signing inputs with the current key. It is a jwk.Signer
// that also lists the keys to publish.
type Signer interface {
	// Current returns the key new signatures are made with.
	Current(ctx context.Context) (Key, error)
	// Sign signs signingInput (the JWS "header.payload") with key kid and
	// returns the raw JWS signature (64 bytes for EdDSA, r||s for ES256).
	Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error)
	// PublicKeys returns every key to publish in the JWKS, current first.
	PublicKeys(ctx context.Context) ([]Key, error)
}

var _ jwk.Signer = Signer(nil)

// HealthChecker is implemented by signers whose backend can be probed.
// Readiness checks call it; Current may answer from a cache.
type HealthChecker interface {
	Healthy(ctx context.Context) error
}
