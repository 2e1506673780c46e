package jwk_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/aip-project/aip/identity/jwk"
)

// Verify answers for Ed25519 exactly as crypto/ed25519.Verify, through its
// key cache, including where verifiers are known to differ (the full
// differential tests and fuzzing are in internal/ed25519v).
func TestVerifyEd25519MatchesStdlib(t *testing.T) {
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// RFC 8032 section 7.1, test 2.
	pub := unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
	msg := unhex("72")
	sig := unhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
	sPlusL := append([]byte{}, sig...)
	l := unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	carry := 0
	for i := range 32 {
		v := int(sPlusL[32+i]) + int(l[i]) + carry
		sPlusL[32+i], carry = byte(v), v>>8
	}
	identity := unhex("0100000000000000000000000000000000000000000000000000000000000000")
	identityNonCanonical := unhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	zero := make([]byte, 32)
	offCurve := unhex("0200000000000000000000000000000000000000000000000000000000000000")
	tests := []struct {
		name          string
		pub, msg, sig []byte
		want          bool
	}{
		{"rfc 8032 test 2", pub, msg, sig, true},
		{"again, key cached", pub, msg, sig, true},
		{"other message", pub, []byte("73"), sig, false},
		{"S + l", pub, msg, sPlusL, false},
		{"identity key, R identity, S 0", identity, msg, append(identity, zero...), true},
		{"identity key, R identity not canonical", identity, msg, append(identityNonCanonical, zero...), false},
		{"identity key not canonical", identityNonCanonical, msg, append(identity, zero...), true},
		{"key off the curve", offCurve, msg, sig, false}, // y = 2 is not on the curve
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if std := ed25519.Verify(tt.pub, tt.msg, tt.sig); std != tt.want {
				t.Fatalf("crypto/ed25519 says %v: the case is wrong", std)
			}
			err := jwk.Verify(ed25519.PublicKey(tt.pub), jwk.EdDSA, tt.msg, tt.sig)
			if tt.want && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.want && !errors.Is(err, jwk.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
		})
	}
}
