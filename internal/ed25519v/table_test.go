package ed25519v

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"

	"filippo.io/edwards25519"
)

// randomScalar returns a uniform scalar.
func randomScalar(tb testing.TB) *edwards25519.Scalar {
	tb.Helper()
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	s, err := edwards25519.NewScalar().SetUniformBytes(b)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// randomPoints returns random points of the prime-order subgroup, and each
// of them plus every small-order point (mixed order), and the small-order
// points themselves.
func randomPoints(tb testing.TB, n int) []*edwards25519.Point {
	tb.Helper()
	pts := torsion(tb)
	out := append([]*edwards25519.Point{}, pts...)
	for i := range n {
		p := new(edwards25519.Point).ScalarBaseMult(randomScalar(tb))
		out = append(out, p, new(edwards25519.Point).Add(p, pts[i%len(pts)]))
	}
	return out
}

func fromExtended(tb testing.TB, v *extended) *edwards25519.Point {
	tb.Helper()
	p, err := new(edwards25519.Point).SetExtendedCoordinates(&v.X, &v.Y, &v.Z, &v.T)
	if err != nil {
		tb.Fatalf("not a point: %v", err)
	}
	return p
}

// The mixed addition, subtraction and doubling, and so the constant 2d
// they use, agree with the library's Point.Add, Subtract and doubling on
// points of every order.
func TestPointArithmetic(t *testing.T) {
	pts := randomPoints(t, 8)
	for i, p := range pts {
		q := pts[(i*5+3)%len(pts)]
		tq := newTable(q) // tq[0][0] is q in affine cached form
		var v extended
		v.fromPoint(p)
		v.addAffine(&tq[0][0], false)
		if want := new(edwards25519.Point).Add(p, q); fromExtended(t, &v).Equal(want) != 1 {
			t.Fatalf("point %d: P + Q differs from Point.Add", i)
		}
		v.fromPoint(p)
		v.addAffine(&tq[0][0], true)
		if want := new(edwards25519.Point).Subtract(p, q); fromExtended(t, &v).Equal(want) != 1 {
			t.Fatalf("point %d: P - Q differs from Point.Subtract", i)
		}
		v.fromPoint(p)
		v.double()
		if want := new(edwards25519.Point).Add(p, p); fromExtended(t, &v).Equal(want) != 1 {
			t.Fatalf("point %d: 2P differs from Point.Add(P, P)", i)
		}
		var enc [32]byte
		v.encode(&enc)
		if want := new(edwards25519.Point).Add(p, p).Bytes(); string(enc[:]) != string(want) {
			t.Fatalf("point %d: encoded %x, Point.Bytes %x", i, enc, want)
		}
	}
}

// bytes32 returns the canonical encoding of s as an array.
func bytes32(s *edwards25519.Scalar) *[32]byte {
	var b [32]byte
	copy(b[:], s.Bytes())
	return &b
}

// doubleMul with tables equals the library's VarTimeDoubleScalarBaseMult
// and ScalarMult, for random and extreme scalars and points of every order
// (small, mixed, prime).
func TestDoubleMul(t *testing.T) {
	lMinus1 := unhex(t, orderHex)
	lMinus1[0]--
	var extremes []*edwards25519.Scalar
	for _, b := range [][]byte{make([]byte, 32), {1}, {8}, {15}, {16}, {0x88, 0x88}, lMinus1} {
		s, err := edwards25519.NewScalar().SetCanonicalBytes(fit(b, 32))
		if err != nil {
			t.Fatal(err)
		}
		extremes = append(extremes, s)
	}
	zero := edwards25519.NewScalar()
	for i, p := range randomPoints(t, 8) {
		tp := newTable(p)
		scalars := append([]*edwards25519.Scalar{randomScalar(t), randomScalar(t)}, extremes...)
		for j, a := range scalars {
			b := scalars[(j+1)%len(scalars)]
			t.Run(fmt.Sprintf("point %d scalars %d", i, j), func(t *testing.T) {
				var v extended
				v.doubleMul(baseTable(), bytes32(b), tp, bytes32(a))
				want := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(a, p, b)
				if got := fromExtended(t, &v); got.Equal(want) != 1 {
					t.Fatalf("[a]P + [b]B: %x, library %x", got.Bytes(), want.Bytes())
				}
				v.doubleMul(baseTable(), bytes32(zero), tp, bytes32(a))
				if got, want := fromExtended(t, &v), new(edwards25519.Point).ScalarMult(a, p); got.Equal(want) != 1 {
					t.Fatalf("[a]P: %x, ScalarMult %x", got.Bytes(), want.Bytes())
				}
			})
		}
	}
}

// radix16 recodes a scalar into digits in [-8, 8] whose sum is the scalar.
func TestRadix16(t *testing.T) {
	for range 100 {
		s := randomScalar(t)
		sum := edwards25519.NewScalar()
		sixteen, err := edwards25519.NewScalar().SetCanonicalBytes(fit([]byte{16}, 32))
		if err != nil {
			t.Fatal(err)
		}
		d := radix16(bytes32(s))
		for j := len(d) - 1; j >= 0; j-- {
			if d[j] < -8 || d[j] > 8 {
				t.Fatalf("digit %d = %d", j, d[j])
			}
			abs := d[j]
			if abs < 0 {
				abs = -abs
			}
			dj, err := edwards25519.NewScalar().SetCanonicalBytes(fit([]byte{byte(abs)}, 32))
			if err != nil {
				t.Fatal(err)
			}
			sum.Multiply(sum, sixteen)
			if d[j] < 0 {
				sum.Subtract(sum, dj)
			} else {
				sum.Add(sum, dj)
			}
		}
		if sum.Equal(s) != 1 {
			t.Fatalf("digits of %x sum to %x", s.Bytes(), sum.Bytes())
		}
	}
}

// BenchmarkNewTable is the cost of a key's table, paid on its second
// verification through a Cache.
func BenchmarkNewTable(b *testing.B) {
	_, privs := keyPairs(b, 1)
	k, err := NewPublicKey(privs[0].Public().(ed25519.PublicKey))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		newTable(&k.negA)
	}
}
