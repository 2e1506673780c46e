package aat_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
)

func selfSigned(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agent"},
		NotBefore: t0, NotAfter: t0.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func x5t(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestCheckX5T(t *testing.T) {
	peer, other := selfSigned(t), selfSigned(t)
	tests := []struct {
		name    string
		cnf     *aat.Confirmation
		peer    *x509.Certificate
		wantErr bool
	}{
		{"match", &aat.Confirmation{X5TS256: x5t(peer)}, peer, false},
		{"other certificate", &aat.Confirmation{X5TS256: x5t(other)}, peer, true},
		{"no cnf", nil, peer, true},
		{"only jkt", &aat.Confirmation{JKT: "abc"}, peer, true},
		{"no peer", &aat.Confirmation{X5TS256: x5t(peer)}, nil, true},
		{"padded base64 form", &aat.Confirmation{X5TS256: x5t(peer) + "="}, peer, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims()
			c.Confirmation = tt.cnf
			err := aat.CheckX5T(&c, tt.peer)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, aat.ErrBinding) {
				t.Fatalf("err = %v, want ErrBinding", err)
			}
		})
	}
}

func TestCheckJKT(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tp, _ := jwk.Thumbprint(pub)
	ecTP, _ := jwk.Thumbprint(&ec.PublicKey)
	tests := []struct {
		name    string
		cnf     *aat.Confirmation
		key     crypto.PublicKey
		wantErr bool
	}{
		{"ed25519 match", &aat.Confirmation{JKT: tp}, pub, false},
		{"p256 match", &aat.Confirmation{JKT: ecTP}, &ec.PublicKey, false},
		{"other key", &aat.Confirmation{JKT: tp}, otherPub, true},
		{"no cnf", nil, pub, true},
		{"only x5t", &aat.Confirmation{X5TS256: tp}, pub, true},
		{"unsupported key", &aat.Confirmation{JKT: tp}, []byte("hmac"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validClaims()
			c.Confirmation = tt.cnf
			err := aat.CheckJKT(&c, tt.key)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, aat.ErrBinding) {
				t.Fatalf("err = %v, want ErrBinding", err)
			}
		})
	}
}
