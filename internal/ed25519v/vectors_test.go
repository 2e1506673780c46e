package ed25519v

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"
)

// Test inputs shared by the table tests, the fuzz target and the
// benchmarks: RFC 8032 vectors, the group order, the small-order points
// and ways to build the signatures where verifiers are known to disagree.

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// rfc8032 are the Ed25519 test vectors of RFC 8032 section 7.1.
var rfc8032 = []struct{ name, seed, pub, msg, sig string }{
	{
		name: "test 1",
		seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		pub:  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		msg:  "",
		sig:  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	},
	{
		name: "test 2",
		seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		pub:  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		msg:  "72",
		sig:  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
	},
	{
		name: "test 3",
		seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		pub:  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		msg:  "af82",
		sig:  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
	},
	{
		name: "test sha(abc)",
		seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		pub:  "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		msg:  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		sig:  "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
	},
}

// Little-endian 256-bit constants: the order l of the prime-order subgroup
// and the field prime p = 2^255 - 19.
const (
	orderHex = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"
	primeHex = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
)

// torsionHex are the canonical encodings of the 8 points of order dividing
// 8: the identity, the point of order 2, two of order 4, four of order 8.
var torsionHex = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}

// addLE returns a + b as little-endian 256-bit numbers (carry out dropped).
func addLE(a, b []byte) []byte {
	out := make([]byte, len(a))
	carry := 0
	for i := range a {
		v := int(a[i]) + int(b[i]) + carry
		out[i], carry = byte(v), v>>8
	}
	return out
}

// torsion returns the 8 small-order points, decoded.
func torsion(tb testing.TB) []*edwards25519.Point {
	tb.Helper()
	var pts []*edwards25519.Point
	for _, h := range torsionHex {
		p, err := new(edwards25519.Point).SetBytes(unhex(tb, h))
		if err != nil {
			tb.Fatalf("torsion point %s: %v", h, err)
		}
		pts = append(pts, p)
	}
	return pts
}

// smallOrderEncodings are the small-order points in every encoding
// crypto/ed25519 accepts: canonical, y + p where y < 19 (y = 0 and y = 1),
// and x = 0 with the sign bit set.
func smallOrderEncodings(tb testing.TB) [][]byte {
	tb.Helper()
	p := unhex(tb, primeHex)
	var out [][]byte
	for _, h := range torsionHex {
		enc := unhex(tb, h)
		out = append(out, enc)
		if enc[0] < 19 && string(enc[1:31]) == string(make([]byte, 30)) && enc[31]&0x7f == 0 {
			out = append(out, addLE(enc, p))
		}
	}
	id, minus1 := unhex(tb, torsionHex[0]), unhex(tb, torsionHex[1])
	id[31] |= 0x80
	minus1[31] |= 0x80
	return append(out, id, minus1)
}

// signer signs with explicit scalars, so a test can sign for encodings of
// A and R that crypto/ed25519 would never produce: S = r + H(R||A||M)·a.
type signer struct {
	a, r *edwards25519.Scalar
	A, R *edwards25519.Point
}

func newSigner(tb testing.TB, seed, nonce []byte) signer {
	tb.Helper()
	h := sha512.Sum512(seed)
	a, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		tb.Fatal(err)
	}
	rh := sha512.Sum512(nonce)
	r, err := edwards25519.NewScalar().SetUniformBytes(rh[:])
	if err != nil {
		tb.Fatal(err)
	}
	return signer{
		a: a, r: r,
		A: new(edwards25519.Point).ScalarBaseMult(a),
		R: new(edwards25519.Point).ScalarBaseMult(r),
	}
}

// sign returns R || S for the given encodings of A and R.
func (s signer) sign(tb testing.TB, encA, encR, msg []byte) []byte {
	tb.Helper()
	h := sha512.New()
	h.Write(encR)
	h.Write(encA)
	h.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		tb.Fatal(err)
	}
	S := edwards25519.NewScalar().MultiplyAdd(k, s.a, s.r)
	return append(append([]byte{}, encR...), S.Bytes()...)
}

// check holds PublicKey.Verify, Cache.Verify (with or without the key's
// table, as the cache decides) and verification with a table built for
// this key equal to crypto/ed25519.Verify for one input, and returns the
// answer. crypto/ed25519 panics on a key that is not 32 bytes; ours
// refuses it.
func check(tb testing.TB, c *Cache, pub, msg, sig []byte) bool {
	tb.Helper()
	if len(pub) != ed25519.PublicKeySize {
		if k, err := NewPublicKey(pub); err == nil {
			tb.Fatalf("NewPublicKey accepted %d bytes: %v", len(pub), k)
		}
		if c.Verify(pub, msg, sig) {
			tb.Fatalf("Cache.Verify accepted a key of %d bytes", len(pub))
		}
		return false
	}
	want := ed25519.Verify(pub, msg, sig)
	if got := c.Verify(pub, msg, sig); got != want {
		tb.Fatalf("Cache.Verify(pub %x, msg %x, sig %x) = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
	}
	k, err := NewPublicKey(pub)
	if err != nil {
		if want {
			tb.Fatalf("NewPublicKey(%x) refused a key crypto/ed25519 verifies with: %v", pub, err)
		}
		return false
	}
	if got := k.Verify(msg, sig); got != want {
		tb.Fatalf("PublicKey.Verify(pub %x, msg %x, sig %x) = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
	}
	if got := k.verify(msg, sig, newTable(&k.negA)); got != want {
		tb.Fatalf("table verification(pub %x, msg %x, sig %x) = %v, crypto/ed25519 says %v", pub, msg, sig, got, want)
	}
	return want
}
