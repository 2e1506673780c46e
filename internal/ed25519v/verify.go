package ed25519v

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"hash"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// ErrBadKey means bytes are not an Ed25519 public key: not 32 bytes, or
// not the encoding of a point on the curve.
var ErrBadKey = errors.New("ed25519v: bad public key")

// PublicKey is an Ed25519 public key decoded once. It is safe for
// concurrent use.
type PublicKey struct {
	raw  [ed25519.PublicKeySize]byte
	negA edwards25519.Point // -A, as the verification equation needs it

	// The table of -A and what a Cache decides it by (tables.go); a key
	// made by NewPublicKey never has one.
	tbl      atomic.Pointer[table]
	seen     atomic.Bool // a signature verified through the Cache
	used     atomic.Bool // tbl used since the clock hand last passed
	building atomic.Bool
}

// NewPublicKey decodes pub as crypto/ed25519 does (SetBytes: on the curve,
// non-canonical y accepted).
func NewPublicKey(pub []byte) (*PublicKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, ErrBadKey
	}
	k := new(PublicKey)
	if _, err := k.negA.SetBytes(pub); err != nil {
		return nil, ErrBadKey
	}
	k.negA.Negate(&k.negA)
	copy(k.raw[:], pub)
	return k, nil
}

// hasher is a SHA-512 state and room for its sum, kept in hashers between
// verifications: crypto/sha512.New returns an interface, so a new one each
// time, and a sum slice passed to it, would be allocations.
type hasher struct {
	h   hash.Hash
	sum [sha512.Size]byte
}

var hashers = sync.Pool{New: func() any { return &hasher{h: sha512.New()} }}

// Verify reports whether sig is a valid Ed25519 signature of message by k,
// with the same answer as crypto/ed25519.Verify for every input.
func (k *PublicKey) Verify(message, sig []byte) bool {
	return k.verify(message, sig, nil)
}

// verify is Verify, with the table of -A when t is not nil: R' is then
// summed from t and the base point's table, with 4 doublings instead of
// 253. Both give the same point, so the same answer.
func (k *PublicKey) verify(message, sig []byte, t *table) bool {
	if len(sig) != ed25519.SignatureSize || sig[63]&224 != 0 {
		return false
	}
	S, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// k = SHA-512(R || A || M) mod l.
	hs, _ := hashers.Get().(*hasher)
	hs.h.Reset()
	hs.h.Write(sig[:32])
	hs.h.Write(k.raw[:])
	hs.h.Write(message)
	kh, err := edwards25519.NewScalar().SetUniformBytes(hs.h.Sum(hs.sum[:0]))
	hashers.Put(hs)
	if err != nil {
		return false // unreachable: a SHA-512 sum is 64 bytes
	}
	// [S]B = R + [k]A, so R = [k](-A) + [S]B.
	if t != nil {
		var s, h, enc [32]byte
		copy(s[:], sig[32:]) // canonical, so below l < 2^253
		copy(h[:], kh.Bytes())
		var R extended
		R.doubleMul(baseTable(), &s, t, &h)
		R.encode(&enc)
		return bytes.Equal(sig[:32], enc[:])
	}
	var R edwards25519.Point
	R.VarTimeDoubleScalarBaseMult(kh, &k.negA, S)
	return bytes.Equal(sig[:32], R.Bytes())
}
