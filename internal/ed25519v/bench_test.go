package ed25519v

import (
	"crypto/ed25519"
	"fmt"
	"testing"
)

// BenchmarkVerify compares crypto/ed25519.Verify with the cache for one
// key and a fresh message each op (a DPoP proof per call, one agent key):
// what the cache saves is decoding the key. "cached" is the cache lookup
// and the verification without a table (a key's first verification),
// "decoded" the verification alone, and "table" Cache.Verify once the key
// has its table (every verification after the first).
func BenchmarkVerify(b *testing.B) {
	_, privs := keyPairs(b, 1)
	pub := privs[0].Public().(ed25519.PublicKey)
	const n = 256
	msgs, sigs := make([][]byte, n), make([][]byte, n)
	for i := range n {
		msgs[i] = fmt.Appendf(nil, "eyJ0eXAiOiJkcG9wK2p3dCJ9.proof-%d", i)
		sigs[i] = ed25519.Sign(privs[0], msgs[i])
	}
	c := NewCache(0)
	k, err := NewPublicKey(pub)
	if err != nil {
		b.Fatal(err)
	}
	tc := NewCache(0)
	for i := range 2 {
		if !tc.Verify(pub, msgs[i], sigs[i]) {
			b.Fatal("refused")
		}
	}
	if tk, err := tc.Key(pub); err != nil || tk.tbl.Load() == nil {
		b.Fatal("no table after two verifications")
	}
	for _, bc := range []struct {
		name   string
		verify func(msg, sig []byte) bool
	}{
		{"stdlib", func(msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }},
		{"cached", func(msg, sig []byte) bool {
			ck, err := c.Key(pub)
			return err == nil && ck.Verify(msg, sig)
		}},
		{"decoded", k.Verify},
		{"table", func(msg, sig []byte) bool { return tc.Verify(pub, msg, sig) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !bc.verify(msgs[i%n], sigs[i%n]) {
					b.Fatal("refused")
				}
				i++
			}
		})
	}
}
