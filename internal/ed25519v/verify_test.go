package ed25519v

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"filippo.io/edwards25519"
)

// The constants the edge cases are built from are what they claim to be.
func TestConstants(t *testing.T) {
	l := unhex(t, orderHex)
	if _, err := edwards25519.NewScalar().SetCanonicalBytes(l); err == nil {
		t.Fatal("l is a canonical scalar")
	}
	lMinus1 := append([]byte{}, l...)
	lMinus1[0]--
	if _, err := edwards25519.NewScalar().SetCanonicalBytes(lMinus1); err != nil {
		t.Fatalf("l-1 is not a canonical scalar: %v", err)
	}
	seen := map[string]bool{}
	for i, p := range torsion(t) {
		if got := new(edwards25519.Point).MultByCofactor(p); got.Equal(edwards25519.NewIdentityPoint()) != 1 {
			t.Fatalf("torsion point %d: [8]P is not the identity", i)
		}
		if i > 0 && p.Equal(edwards25519.NewIdentityPoint()) == 1 {
			t.Fatalf("torsion point %d is the identity", i)
		}
		if !bytes.Equal(p.Bytes(), unhex(t, torsionHex[i])) || seen[string(p.Bytes())] {
			t.Fatalf("torsion point %d: not canonical or repeated", i)
		}
		seen[string(p.Bytes())] = true
	}
	for _, v := range rfc8032 {
		if pub := ed25519.NewKeyFromSeed(unhex(t, v.seed)).Public().(ed25519.PublicKey); !bytes.Equal(pub, unhex(t, v.pub)) {
			t.Fatalf("%s: public key %x", v.name, pub)
		}
	}
}

func TestRFC8032(t *testing.T) {
	c := NewCache(0)
	for _, v := range rfc8032 {
		t.Run(v.name, func(t *testing.T) {
			pub, msg, sig := unhex(t, v.pub), unhex(t, v.msg), unhex(t, v.sig)
			if !check(t, c, pub, msg, sig) {
				t.Fatal("vector refused")
			}
			if got := ed25519.Sign(ed25519.NewKeyFromSeed(unhex(t, v.seed)), msg); !bytes.Equal(got, sig) {
				t.Fatalf("signature transcribed wrong: crypto/ed25519 signs %x", got)
			}
			for name, in := range mutations(t, pub, msg, sig) {
				t.Run(name, func(t *testing.T) {
					if check(t, c, in.pub, in.msg, in.sig) {
						t.Fatal("accepted")
					}
				})
			}
		})
	}
}

type input struct{ pub, msg, sig []byte }

// mutations of a valid signature that every Ed25519 verifier refuses.
func mutations(t *testing.T, pub, msg, sig []byte) map[string]input {
	clone := func(b []byte) []byte { return append([]byte{}, b...) }
	flip := func(b []byte, bit int) []byte { b = clone(b); b[bit/8] ^= 1 << (bit % 8); return b }
	sPlusL := clone(sig)
	copy(sPlusL[32:], addLE(sig[32:], unhex(t, orderHex)))
	sIsL := clone(sig)
	copy(sIsL[32:], unhex(t, orderHex))
	out := map[string]input{
		"message bit":         {pub, flip(append(clone(msg), 0), 0), sig},
		"message longer":      {pub, append(clone(msg), 0), sig},
		"R bit":               {pub, msg, flip(sig, 3)},
		"S bit":               {pub, msg, flip(sig, 260)},
		"S + l":               {pub, msg, sPlusL},
		"S = l":               {pub, msg, sIsL},
		"S high bit":          {pub, msg, flip(sig, 511)},
		"S bit 253":           {pub, msg, flip(sig, 509)},
		"key bit":             {flip(pub, 100), msg, sig},
		"key sign bit":        {flip(pub, 255), msg, sig},
		"signature 63 bytes":  {pub, msg, sig[:63]},
		"signature 65 bytes":  {pub, msg, append(clone(sig), 0)},
		"signature empty":     {pub, msg, nil},
		"signature 32 bytes":  {pub, msg, sig[:32]},
		"key 31 bytes":        {pub[:31], msg, sig},
		"key 33 bytes":        {append(clone(pub), 0), msg, sig},
		"key empty":           {nil, msg, sig},
		"R and S swapped":     {pub, msg, append(clone(sig[32:]), sig[:32]...)},
		"signature all zero":  {pub, msg, make([]byte, 64)},
		"key all zero":        {make([]byte, 32), msg, sig},
		"key and R identity":  {unhex(t, torsionHex[0]), msg, append(unhex(t, torsionHex[0]), sig[32:]...)},
		"signature of others": {pub, msg, ed25519.Sign(ed25519.NewKeyFromSeed(make([]byte, 32)), msg)},
	}
	return out
}

// The cases where implementations of Ed25519 differ (small-order and
// mixed-order keys and R, non-canonical encodings): ours answers as
// crypto/ed25519 does, including where it accepts.
func TestEdgeCases(t *testing.T) {
	c := NewCache(8)
	msg := []byte("header.payload")
	zeroS := make([]byte, 32)
	identity := unhex(t, torsionHex[0])

	t.Run("identity key, R identity, S 0", func(t *testing.T) {
		// [k](-O) + [0]B = O for every message: accepted by cofactorless
		// verification, as crypto/ed25519 does.
		for _, m := range [][]byte{nil, msg, []byte("other")} {
			if !check(t, c, identity, m, append(identity, zeroS...)) {
				t.Fatalf("refused for %q", m)
			}
		}
	})
	t.Run("non-canonical R", func(t *testing.T) {
		// R = O encoded as y = p + 1: R'.Bytes() is canonical, so refused.
		nonCanonical := addLE(identity, unhex(t, primeHex))
		if check(t, c, identity, msg, append(nonCanonical, zeroS...)) {
			t.Fatal("accepted")
		}
	})
	t.Run("small-order keys", func(t *testing.T) {
		// With S = 0, R' = [k](-A) is one of the 8 torsion points, where k
		// hashes R: each canonical R has about one chance in 8 (1 in 1 for
		// the identity key). Some must be accepted for every key that
		// decodes, so acceptance is exercised too.
		for _, a := range smallOrderEncodings(t) {
			accepted := 0
			for i := range 16 {
				m := fmt.Appendf(nil, "message %d", i)
				for _, r := range torsionHex {
					if check(t, c, a, m, append(unhex(t, r), zeroS...)) {
						accepted++
					}
				}
			}
			if _, err := NewPublicKey(a); err == nil && accepted == 0 {
				t.Fatalf("key %x: no signature accepted: the case is not exercised", a)
			}
		}
	})
	t.Run("mixed-order keys", func(t *testing.T) {
		// A' = A + T and R' = R + T': a signature S = r + H(R'||A'||M)·a
		// verifies without the cofactor only when [k]T = -T'. Some must.
		pts := torsion(t)
		accepted := 0
		for i := range 16 {
			s := newSigner(t, []byte{byte(i)}, []byte{byte(i), 1})
			m := fmt.Appendf(nil, "message %d", i)
			encA := new(edwards25519.Point).Add(s.A, pts[4+i%4]).Bytes()
			for _, T := range pts {
				encR := new(edwards25519.Point).Add(s.R, T).Bytes()
				if check(t, c, encA, m, s.sign(t, encA, encR, m)) {
					accepted++
				}
			}
			// The honest encoding verifies.
			if !check(t, c, s.A.Bytes(), m, s.sign(t, s.A.Bytes(), s.R.Bytes(), m)) {
				t.Fatal("honest signature refused")
			}
		}
		if accepted == 0 {
			t.Fatal("no mixed-order signature accepted: the case is not exercised")
		}
	})
	t.Run("keys off the curve", func(t *testing.T) {
		off := 0
		for y := range 64 {
			pub := make([]byte, 32)
			pub[0] = byte(y)
			if _, err := NewPublicKey(pub); err != nil {
				if !errors.Is(err, ErrBadKey) {
					t.Fatalf("err = %v", err)
				}
				off++
			}
			check(t, c, pub, msg, append(identity, zeroS...))
		}
		if off == 0 {
			t.Fatal("no key off the curve among y < 64: the case is not exercised")
		}
	})
}
