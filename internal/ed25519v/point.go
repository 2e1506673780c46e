package ed25519v

import (
	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// Point arithmetic for the table path, on the curve -x² + y² = 1 + d·x²·y²
// in extended coordinates (x = X/Z, y = Y/Z, x·y = T/Z). The formulas are
// the complete ones of Hisil, Wong, Carter and Dawson (2008) for a = -1,
// as filippo.io/edwards25519 uses: every input, including small-order
// points and the identity, gives the exact sum. Nothing here is constant
// time: every input of a verification is public.

// d2 is 2·d, where d = -121665/121666 mod p is the curve constant.
var d2 = func() *field.Element {
	var num, den, d field.Element
	num.Negate(feSmall(121665))
	den.Invert(feSmall(121666))
	d.Multiply(&num, &den)
	return new(field.Element).Add(&d, &d)
}()

// feSmall returns n as a field element.
func feSmall(n uint32) *field.Element {
	var b [32]byte
	b[0], b[1], b[2], b[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	e, _ := new(field.Element).SetBytes(b[:]) // 32 bytes: never fails
	return e
}

// extended is a point in extended coordinates.
type extended struct {
	X, Y, Z, T field.Element
}

// affineCached is an affine point (x, y) kept as y+x, y-x and 2d·x·y, the
// three values a mixed addition reads.
type affineCached struct {
	YplusX, YminusX, T2d field.Element
}

func (v *extended) identity() {
	v.X.Zero()
	v.Y.One()
	v.Z.One()
	v.T.Zero()
}

// addAffine sets v = v + q (madd-2008-hwcd-3, 7M); with neg, v = v - q.
func (v *extended) addAffine(q *affineCached, neg bool) {
	var a, b, c, d, e, f, g, h field.Element
	pp, pm := &q.YplusX, &q.YminusX
	if neg { // -q = (-x, y): y+x and y-x swap, 2d·x·y changes sign
		pp, pm = pm, pp
	}
	a.Subtract(&v.Y, &v.X)
	a.Multiply(&a, pm)
	b.Add(&v.Y, &v.X)
	b.Multiply(&b, pp)
	c.Multiply(&v.T, &q.T2d)
	d.Add(&v.Z, &v.Z)
	e.Subtract(&b, &a)
	h.Add(&b, &a)
	if neg {
		f.Add(&d, &c)
		g.Subtract(&d, &c)
	} else {
		f.Subtract(&d, &c)
		g.Add(&d, &c)
	}
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.T.Multiply(&e, &h)
	v.Z.Multiply(&f, &g)
}

// double sets v = 2·v (dbl-2008-hwcd, 4S + 4M).
func (v *extended) double() {
	var a, b, c, e, f, g, h field.Element
	a.Square(&v.X)
	b.Square(&v.Y)
	c.Square(&v.Z)
	c.Add(&c, &c)
	e.Add(&v.X, &v.Y)
	e.Square(&e)
	e.Subtract(&e, &a)
	e.Subtract(&e, &b)
	g.Subtract(&b, &a) // D + B with D = a·A = -A
	f.Subtract(&g, &c)
	h.Negate(&a)
	h.Subtract(&h, &b) // D - B
	v.X.Multiply(&e, &f)
	v.Y.Multiply(&g, &h)
	v.T.Multiply(&e, &h)
	v.Z.Multiply(&f, &g)
}

// encode writes the 32-byte encoding of v: y, with the sign of x in the
// top bit, as edwards25519.Point.Bytes does.
func (v *extended) encode(out *[32]byte) {
	var zInv, x, y field.Element
	zInv.Invert(&v.Z)
	x.Multiply(&v.X, &zInv)
	y.Multiply(&v.Y, &zInv)
	copy(out[:], y.Bytes())
	out[31] |= byte(x.IsNegative() << 7)
}

// fromPoint sets v to p.
func (v *extended) fromPoint(p *edwards25519.Point) {
	X, Y, Z, T := p.ExtendedCoordinates()
	v.X.Set(X)
	v.Y.Set(Y)
	v.Z.Set(Z)
	v.T.Set(T)
}
