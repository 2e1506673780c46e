package jwk

import (
	"context"
	"crypto"
	"time"
)

// Key is a public verification key: what a JWKS publishes and what a
// verifier looks up by kid.
type Key struct {
	ID        string // kid
	Algorithm string // EdDSA or ES256
	Public    crypto.PublicKey
	// NotAfter, when set, is when the key stops being published (retired
	// keys stay published until every token they signed has expired).
	NotAfter time.Time
}

// Signer signs with a key it holds and never gives out (a key file, Vault
// transit): what SignJWS needs. The issuer's signing backends implement it.
type Signer interface {
	// Current returns the key new signatures are made with.
	Current(ctx context.Context) (Key, error)
	// Sign signs signingInput (the JWS "header.payload") with key kid and
	// returns the raw JWS signature (64 bytes for EdDSA, r||s for ES256).
	Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error)
}
