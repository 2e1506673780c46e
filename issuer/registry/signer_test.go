package registry_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/issuer/signer"
)

// testSigner is an in-memory signer.Signer for one Ed25519 or P-256 key.
type testSigner struct {
	kid, alg string
	priv     crypto.Signer
	err      error // returned by every call when set
}

var _ signer.Signer = (*testSigner)(nil)

func newEdSigner(t *testing.T, kid string) *testSigner {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{kid: kid, alg: signer.EdDSA, priv: priv}
}

func newP256Signer(t *testing.T, kid string) *testSigner {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{kid: kid, alg: signer.ES256, priv: priv}
}

func (s *testSigner) Current(context.Context) (signer.Key, error) {
	if s.err != nil {
		return signer.Key{}, s.err
	}
	return signer.Key{ID: s.kid, Algorithm: s.alg, Public: s.priv.Public()}, nil
}

func (s *testSigner) Sign(_ context.Context, kid string, input []byte) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if kid != s.kid {
		return nil, errors.New("unknown kid")
	}
	return s.sign(input), nil
}

func (s *testSigner) sign(input []byte) []byte {
	switch k := s.priv.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input)
	case *ecdsa.PrivateKey:
		h := sha256.Sum256(input)
		r, ss, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		ss.FillBytes(out[32:])
		return out
	}
	panic("unsupported key")
}

func (s *testSigner) PublicKeys(ctx context.Context) ([]signer.Key, error) {
	k, err := s.Current(ctx)
	return []signer.Key{k}, err
}

// jwks returns the JWKS publishing s's key.
func (s *testSigner) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: s.priv.Public(), KeyID: s.kid, Algorithm: s.alg, Use: "sig"}}}
}

// compact signs payload under an arbitrary protected header.
func (s *testSigner) compact(header string, payload []byte) string {
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString(payload)
	return input + "." + b64.EncodeToString(s.sign([]byte(input)))
}
