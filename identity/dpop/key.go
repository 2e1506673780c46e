package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/jwk"
)

// Key is an agent's proof-of-possession key. The private half never leaves
// it: Proof signs, and only the public JWK is ever serialized.
type Key struct {
	priv       crypto.Signer
	alg        string
	jwkJSON    json.RawMessage // public JWK for the header
	thumbprint string
}

// NewKey generates a key for alg: "" or EdDSA (Ed25519), or ES256 (P-256).
func NewKey(alg string) (*Key, error) {
	var priv crypto.Signer
	switch alg {
	case "", jwk.EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate dpop key: %w", err)
		}
		priv = k
	case jwk.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate dpop key: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("dpop key: algorithm %q: want %s or %s", alg, jwk.EdDSA, jwk.ES256)
	}
	return NewKeyFrom(priv)
}

// NewKeyFrom wraps an existing Ed25519 or P-256 private key (e.g. the
// agent's registered native key).
func NewKeyFrom(priv crypto.Signer) (*Key, error) {
	pub := priv.Public()
	alg, err := jwk.Algorithm(pub)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	tp, err := jwk.Thumbprint(pub)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	pubJWK := jose.JSONWebKey{Key: pub}
	raw, err := pubJWK.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("dpop key: public jwk: %w", err)
	}
	return &Key{priv: priv, alg: alg, jwkJSON: raw, thumbprint: tp}, nil
}

// Algorithm is the key's JWS algorithm.
func (k *Key) Algorithm() string { return k.alg }

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.priv.Public() }

// Thumbprint is the RFC 7638 thumbprint: the jkt an issuer puts in cnf.
func (k *Key) Thumbprint() string { return k.thumbprint }
