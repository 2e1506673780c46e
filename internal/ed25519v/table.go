package ed25519v

import (
	"sync"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// table holds, for a point P, the multiples 1..8 of 256^i·P for i = 0..31
// in affine cached form: with a scalar in signed radix 16, [s]P is about 64
// mixed additions and 4 doublings, where the double-and-add of
// VarTimeDoubleScalarBaseMult needs 253 doublings. It is 32·8·3 field
// elements, 30 KiB.
type table [32][8]affineCached

// newTable returns the table of p. The multiples are summed with the
// library's own Point.Add, then made affine with one inversion (Montgomery's
// trick).
func newTable(p *edwards25519.Point) *table {
	var pts [32][8]extended
	var base, m edwards25519.Point
	base.Set(p)
	for i := range pts {
		m.Set(&base)
		for j := range pts[i] {
			if j > 0 {
				m.Add(&m, &base)
			}
			pts[i][j].fromPoint(&m)
		}
		for range 8 { // base = 256·base
			base.Add(&base, &base)
		}
	}
	// prefix[n] = Z_0·…·Z_n, then one inversion, then back.
	var prefix [32 * 8]field.Element
	flat := func(n int) *extended { return &pts[n/8][n%8] }
	prefix[0].Set(&flat(0).Z)
	for n := 1; n < len(prefix); n++ {
		prefix[n].Multiply(&prefix[n-1], &flat(n).Z)
	}
	var inv, zInv, x, y field.Element
	inv.Invert(&prefix[len(prefix)-1]) // 1/(Z_0·…·Z_last)
	t := new(table)
	for n := len(prefix) - 1; n >= 0; n-- {
		e := flat(n)
		if n > 0 {
			zInv.Multiply(&inv, &prefix[n-1]) // 1/Z_n
			inv.Multiply(&inv, &e.Z)          // 1/(Z_0·…·Z_n-1)
		} else {
			zInv.Set(&inv)
		}
		x.Multiply(&e.X, &zInv)
		y.Multiply(&e.Y, &zInv)
		c := &t[n/8][n%8]
		c.YplusX.Add(&y, &x)
		c.YminusX.Subtract(&y, &x)
		c.T2d.Multiply(&x, &y)
		c.T2d.Multiply(&c.T2d, d2)
	}
	return t
}

// baseTable is the table of the base point B, built on first use.
var baseTable = sync.OnceValue(func() *table {
	return newTable(edwards25519.NewGeneratorPoint())
})

// radix16 returns the 64 signed digits of a little-endian scalar below
// 2^255, each in [-8, 8], as edwards25519's signedRadix16: s = Σ d_j·16^j.
func radix16(s *[32]byte) [64]int8 {
	var d [64]int8
	for i, b := range s {
		d[2*i], d[2*i+1] = int8(b&15), int8(b>>4)
	}
	for i := range 63 {
		carry := (d[i] + 8) >> 4
		d[i] -= carry << 4
		d[i+1] += carry
	}
	return d
}

// add adds the digit times the entry's point: d·256^i·P for entries
// t[i], nothing for 0.
func (v *extended) addDigit(entries *[8]affineCached, d int8) {
	switch {
	case d > 0:
		v.addAffine(&entries[d-1], false)
	case d < 0:
		v.addAffine(&entries[-d-1], true)
	}
}

// doubleMul sets v = [a]P + [b]Q, where tp and tq are the tables of P and
// Q and a and b are scalars below 2^255, little-endian. Digit j of a
// scalar weighs 16^j: the odd digits are added first from table (j-1)/2
// and the sum multiplied by 16, then the even digits from table j/2.
func (v *extended) doubleMul(tp *table, a *[32]byte, tq *table, b *[32]byte) {
	da, db := radix16(a), radix16(b)
	v.identity()
	for i := range tp {
		v.addDigit(&tp[i], da[2*i+1])
		v.addDigit(&tq[i], db[2*i+1])
	}
	for range 4 {
		v.double()
	}
	for i := range tp {
		v.addDigit(&tp[i], da[2*i])
		v.addDigit(&tq[i], db[2*i])
	}
}
