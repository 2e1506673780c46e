package agent_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/jwk"
)

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestLoadKeyFile(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(ed.Public())
	tests := []struct {
		name    string
		data    []byte
		wantAlg string // "" means refused
	}{
		{"ed25519", pkcs8(t, ed), jwk.EdDSA},
		{"p-256", pkcs8(t, ec), jwk.ES256},
		{"p-384", pkcs8(t, p384), ""},
		{"rsa", pkcs8(t, rk), ""},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), ""},
		{"garbage der", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")}), ""},
		{"empty", nil, ""},
		{"huge", []byte(strings.Repeat("A", 70<<10)), ""},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".pem")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := agent.LoadKeyFile(path)
			if tt.wantAlg == "" {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil || k.Algorithm() != tt.wantAlg {
				t.Fatalf("LoadKeyFile = %v, %v", k, err)
			}
		})
	}
	if _, err := agent.LoadKeyFile(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file accepted")
	}
}
