package policy

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func TestSignYAML(t *testing.T) {
	key, other := testKey(1), testKey(2)
	src := header + "# keep me\nspec:\n  allowed_tools: [a]  # and me\n"
	tests := []struct {
		name string
		src  string
	}{
		{"unsigned", src},
		{"already signed", strings.Replace(src, "name: test", "name: test\n  signature: \"ed25519:"+strings.Repeat("A", 86)+"==\"", 1)},
		{"flow metadata", "apiVersion: aip.io/v1alpha2\nkind: AgentPolicy\nmetadata: {name: test}\nspec: {allowed_tools: [a]}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := SignYAML([]byte(tt.src), key)
			if err != nil {
				t.Fatal(err)
			}
			doc := mustParse(t, string(out))
			if doc.Hash() != mustParse(t, tt.src).Hash() {
				t.Error("signing changed the policy hash")
			}
			if err := VerifySignature(doc, key.Public().(ed25519.PublicKey)); err != nil {
				t.Errorf("verify: %v\n%s", err, out)
			}
			if err := VerifySignature(doc, other.Public().(ed25519.PublicKey)); !errors.Is(err, ErrSignatureInvalid) {
				t.Errorf("verify with another key = %v", err)
			}
			if strings.Contains(tt.src, "#") && (!strings.Contains(string(out), "# keep me") || !strings.Contains(string(out), "# and me")) {
				t.Errorf("comments lost:\n%s", out)
			}
		})
	}
	if _, err := SignYAML([]byte(header+"spec:\n  bogus: 1\n"), key); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid policy: %v", err)
	}
	if _, err := SignYAML([]byte(src), nil); err == nil {
		t.Error("nil key accepted")
	}
}

func TestKeyPEM(t *testing.T) {
	key := testKey(3)
	privPEM, pubPEM, err := MarshalKeyPair(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	privPath, pubPath := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	if err := os.WriteFile(privPath, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	priv, err := ReadPrivateKey(privPath)
	if err != nil || !priv.Equal(key) {
		t.Errorf("ReadPrivateKey = %v", err)
	}
	pub, err := ReadPublicKey(pubPath)
	if err != nil || !pub.Equal(key.Public()) {
		t.Errorf("ReadPublicKey = %v", err)
	}
	tests := []struct {
		name string
		data []byte
		pub  bool
	}{
		{"public read as private", pubPEM, false},
		{"private read as public", privPEM, true},
		{"not PEM", []byte("hello"), true},
		{"corrupt DER", []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.pub {
				_, err = ParsePublicKey(tt.data)
			} else {
				_, err = ParsePrivateKey(tt.data)
			}
			if err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestRunTestFileTrustedKey(t *testing.T) {
	key := testKey(4)
	dir := t.TempDir()
	signed, err := SignYAML([]byte(header+"spec:\n  allowed_tools: [a]\n"), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), signed, 0o600); err != nil {
		t.Fatal(err)
	}
	tf := filepath.Join(dir, "p_test.yaml")
	if err := os.WriteFile(tf, []byte("policy: p.yaml\ntests:\n  - {name: a, request: {method: tools/call, params: {name: a}}, expect: {decision: allow}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  ed25519.PublicKey
		pass bool
		code int
	}{
		{"no key", nil, true, 0},
		{"right key", key.Public().(ed25519.PublicKey), true, 0},
		{"wrong key: every call is -32010", testKey(5).Public().(ed25519.PublicKey), false, -32010},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RunTestFile(context.Background(), tf, TestOptions{TrustedKey: tt.key})
			if err != nil || len(res) != 1 {
				t.Fatalf("RunTestFile = %v, %v", res, err)
			}
			if res[0].Passed() != tt.pass || int(res[0].Got.Code) != tt.code {
				t.Errorf("passed=%v code=%d failures=%v", res[0].Passed(), res[0].Got.Code, res[0].Failures)
			}
		})
	}
}
