package registrytest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// EdKey returns a deterministic Ed25519 JWK for seed, private part
// included (stores must refuse it; use EdPublic).
func EdKey(seed string) *jose.JSONWebKey {
	s := sha256.Sum256([]byte(seed))
	return &jose.JSONWebKey{Key: ed25519.NewKeyFromSeed(s[:])}
}

// EdPublic returns the public JWK of EdKey(seed).
func EdPublic(seed string) *jose.JSONWebKey {
	k := EdKey(seed).Public()
	return &k
}

// ecKey returns a fresh public ECDSA JWK on curve c.
func ecKey(t *testing.T, c elliptic.Curve) *jose.JSONWebKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatalf("generate ecdsa key: %v", err)
	}
	return &jose.JSONWebKey{Key: &k.PublicKey}
}

// rsaKey returns a fresh public RSA JWK (an unaccepted type).
func rsaKey(t *testing.T) *jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate rsa key: %v", err)
	}
	return &jose.JSONWebKey{Key: &k.PublicKey}
}
