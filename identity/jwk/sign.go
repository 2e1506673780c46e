package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/aip-project/aip/internal/ed25519v"
)

// ErrBadSignature means a raw JWS signature does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// ed25519Keys holds the Ed25519 public keys Verify decoded last (a fixed
// number: see ed25519v.Cache), so that a key used for many signatures, an
// agent's DPoP key above all, is decoded once. It answers exactly as
// crypto/ed25519.Verify.
var ed25519Keys = ed25519v.NewCache(ed25519v.DefaultCacheSize)

// Sign makes the raw JWS signature of signingInput with priv: Ed25519 over
// the input, or ES256 as r||s (32 bytes each) over its SHA-256. priv may be
// any crypto.Signer (an in-memory key or a hardware one returning ASN.1).
func Sign(priv crypto.Signer, signingInput []byte) ([]byte, error) {
	switch pub := priv.Public().(type) {
	case ed25519.PublicKey:
		sig, err := priv.Sign(rand.Reader, signingInput, crypto.Hash(0))
		if err != nil {
			return nil, fmt.Errorf("ed25519 sign: %w", err)
		}
		return sig, nil
	case *ecdsa.PublicKey:
		if _, err := Algorithm(pub); err != nil {
			return nil, err
		}
		digest := sha256.Sum256(signingInput)
		der, err := priv.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("ecdsa sign: %w", err)
		}
		return derToRaw(der)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
}

// Verify checks a raw JWS signature made with alg by the key pub.
func Verify(pub crypto.PublicKey, alg string, signingInput, sig []byte) error {
	if err := CheckAlgorithm(alg, pub); err != nil {
		return err
	}
	if len(sig) != SignatureSize {
		return fmt.Errorf("%w: %d bytes", ErrBadSignature, len(sig))
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if !ed25519Keys.Verify(k, signingInput, sig) {
			return ErrBadSignature
		}
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(signingInput)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, digest[:], r, s) {
			return ErrBadSignature
		}
	}
	return nil
}

// derToRaw turns an ASN.1 ECDSA P-256 signature into JWS r||s.
func derToRaw(der []byte) ([]byte, error) {
	var r, s []byte
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("ecdsa sign: malformed asn.1 signature")
	}
	out := make([]byte, SignatureSize)
	if err := putScalar(out[:32], r); err != nil {
		return nil, err
	}
	if err := putScalar(out[32:], s); err != nil {
		return nil, err
	}
	return out, nil
}

func putScalar(dst, v []byte) error {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) {
		return errors.New("ecdsa sign: scalar too large")
	}
	copy(dst[len(dst)-len(v):], v)
	return nil
}
