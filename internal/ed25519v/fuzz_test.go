package ed25519v

import (
	"crypto/ed25519"
	"testing"

	"filippo.io/edwards25519"
)

// Fuzz modes: the low two bits choose how the input is built, the others
// mutate it.
const (
	fuzzRaw        = 0 // pub, msg and sig as given
	fuzzSigned     = 1 // a real signature by the key derived from seed
	fuzzSmallOrder = 2 // a small-order key (any accepted encoding), a small-order R
	fuzzMixedOrder = 3 // key and R plus small-order points, signed for those encodings

	fuzzXORKey   = 1 << 2 // pub ^= the given pub (as a mask over its prefix)
	fuzzXORSig   = 1 << 3 // sig ^= the given sig
	fuzzSPlusL   = 1 << 4 // S += l: the same signature, S not canonical
	fuzzShortSig = 1 << 5 // drop the last byte of sig
	fuzzLongSig  = 1 << 6 // append a byte to sig
	fuzzKeyPlusP = 1 << 7 // pub += p: y not canonical when y < 19
)

// FuzzVerify holds PublicKey.Verify, Cache.Verify and the table path equal
// to crypto/ed25519.Verify (see check): on raw input, and on valid, small-order and
// mixed-order signatures mutated in the ways verifiers are known to differ
// (non-canonical S, A and R, wrong lengths, flipped bits).
func FuzzVerify(f *testing.F) {
	c := NewCache(8) // small, so that fuzzing also evicts
	for _, v := range rfc8032 {
		f.Add(uint8(fuzzRaw), []byte(nil), unhex(f, v.msg), unhex(f, v.pub), unhex(f, v.sig))
	}
	for mode := range 256 {
		f.Add(uint8(mode), []byte{byte(mode), 1, 2}, []byte("header.payload"), []byte{0, 0, 0, 1}, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4})
	}
	smallOrder := smallOrderEncodings(f)
	pts := torsion(f)
	l, p := unhex(f, orderHex), unhex(f, primeHex)
	f.Fuzz(func(t *testing.T, mode uint8, seed, msg, pubIn, sigIn []byte) {
		pub, sig := pubIn, sigIn
		switch mode & 3 {
		case fuzzSigned:
			priv := ed25519.NewKeyFromSeed(fit(seed, ed25519.SeedSize))
			pub, sig = priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg)
		case fuzzSmallOrder:
			s := fit(seed, 2)
			pub = smallOrder[int(s[0])%len(smallOrder)]
			sig = append(append([]byte{}, smallOrder[int(s[1])%len(smallOrder)]...), make([]byte, 32)...)
		case fuzzMixedOrder:
			s := fit(seed, 2)
			sg := newSigner(t, seed, append([]byte{1}, seed...))
			encA := new(edwards25519.Point).Add(sg.A, pts[int(s[0])%len(pts)]).Bytes()
			encR := new(edwards25519.Point).Add(sg.R, pts[int(s[1])%len(pts)]).Bytes()
			pub, sig = encA, sg.sign(t, encA, encR, msg)
		}
		if mode&3 != fuzzRaw {
			pub, sig = append([]byte{}, pub...), append([]byte{}, sig...)
			if mode&fuzzXORKey != 0 {
				xor(pub, pubIn)
			}
			if mode&fuzzXORSig != 0 {
				xor(sig, sigIn)
			}
		}
		if mode&fuzzSPlusL != 0 && len(sig) == 64 {
			copy(sig[32:], addLE(sig[32:], l))
		}
		if mode&fuzzKeyPlusP != 0 && len(pub) == 32 {
			pub = addLE(pub, p)
		}
		if mode&fuzzShortSig != 0 && len(sig) > 0 {
			sig = sig[:len(sig)-1]
		}
		if mode&fuzzLongSig != 0 {
			sig = append(sig, mode)
		}
		check(t, c, pub, msg, sig)
	})
}

// fit returns b padded with zeros or cut to n bytes.
func fit(b []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, b)
	return out
}

// xor XORs mask into the start of b.
func xor(b, mask []byte) {
	for i := range min(len(b), len(mask)) {
		b[i] ^= mask[i]
	}
}
