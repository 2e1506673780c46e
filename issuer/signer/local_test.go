package signer_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/issuer/signer"
)

func TestLocalFileGenerates(t *testing.T) {
	tests := []struct {
		name    string
		alg     string
		wantAlg string
	}{
		{"default is ed25519", "", signer.EdDSA},
		{"ed25519", signer.EdDSA, signer.EdDSA},
		{"p256", signer.ES256, signer.ES256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys", "issuer.pem")
			l := openLocal(t, signer.LocalConfig{Path: path, Algorithm: tt.alg})
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Fatalf("key file mode %04o, want 0600", perm)
			}
			data, _ := os.ReadFile(path)
			block, _ := pem.Decode(data)
			if block == nil || block.Type != "PRIVATE KEY" {
				t.Fatal("key file is not a PEM PKCS#8 key")
			}
			if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
				t.Fatal(err)
			}
			k, err := l.Current(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != tt.wantAlg {
				t.Fatalf("alg %s, want %s", k.Algorithm, tt.wantAlg)
			}
			if tp, _ := jwk.Thumbprint(k.Public); k.ID != tp {
				t.Fatalf("kid %s is not the RFC 7638 thumbprint %s", k.ID, tp)
			}
			token, err := jwk.SignJWS(context.Background(), l, "aat+jwt", map[string]string{"sub": "u"})
			if err != nil {
				t.Fatal(err)
			}
			verifyRaw(t, token, k)
		})
	}
}

func TestLocalFileRefusesInsecureFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string // which file gets the mode
		mode    os.FileMode
		wantErr bool
	}{
		{"key 0600", "key", 0o600, false},
		{"key 0400", "key", 0o400, false},
		{"key group readable", "key", 0o640, true},
		{"key other readable", "key", 0o604, true},
		{"key world readable", "key", 0o644, true},
		{"key group writable", "key", 0o620, true},
		{"retired world readable", "retired", 0o644, true},
		{"retired group writable", "retired", 0o620, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "issuer.pem")
			l := openLocal(t, signer.LocalConfig{Path: path})
			if _, err := l.Rotate(context.Background()); err != nil { // creates the retired file
				t.Fatal(err)
			}
			target := path
			if tt.file == "retired" {
				target = path + ".retired.json"
			}
			if err := os.Chmod(target, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := signer.OpenLocalFile(signer.LocalConfig{Path: path})
			if tt.wantErr != errors.Is(err, signer.ErrInsecureKeyFile) {
				t.Fatalf("err = %v, want ErrInsecureKeyFile: %v", err, tt.wantErr)
			}
			if !tt.wantErr && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
}

func TestLocalFileRefusesBadKeys(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{"empty file", "empty.pem"},
		{"not pem", "garbage.pem"},
		{"rsa key", "rsa.pem"},
		{"p384 key", "p384.pem"},
		{"wrong pem type", "wrong-type.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "issuer.pem")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := signer.OpenLocalFile(signer.LocalConfig{Path: path}); err == nil {
				t.Fatal("bad key file accepted")
			}
			after, _ := os.ReadFile(path)
			if string(after) != string(data) {
				t.Fatal("bad key file was overwritten")
			}
		})
	}
}

func TestLocalFileReload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "issuer.pem")
	first := openLocal(t, signer.LocalConfig{Path: path, Algorithm: signer.ES256})
	token, err := jwk.SignJWS(ctx, first, "aat+jwt", map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	// Reopened with another configured algorithm: the existing key is kept.
	second := openLocal(t, signer.LocalConfig{Path: path, Algorithm: signer.EdDSA})
	k1, _ := first.Current(ctx)
	k2, _ := second.Current(ctx)
	if k1.ID != k2.ID || k2.Algorithm != signer.ES256 {
		t.Fatalf("reloaded key %s/%s, want %s/ES256", k2.ID, k2.Algorithm, k1.ID)
	}
	verifyRaw(t, token, k2)
}

func TestLocalFileRotation(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "issuer.pem")
	cfg := signer.LocalConfig{Path: path, Retain: 10 * time.Minute, Now: clk.Now}
	l := openLocal(t, cfg)
	old, _ := l.Current(ctx)
	oldToken, err := jwk.SignJWS(ctx, l, "aat+jwt", map[string]string{"k": "old"})
	if err != nil {
		t.Fatal(err)
	}

	next, err := l.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.ID == old.ID {
		t.Fatal("rotation kept the kid")
	}
	if cur, _ := l.Current(ctx); cur.ID != next.ID {
		t.Fatalf("current %s after rotation, want %s", cur.ID, next.ID)
	}
	if _, err := l.Sign(ctx, old.ID, []byte("x.y")); !errors.Is(err, signer.ErrUnknownKey) {
		t.Fatalf("sign with retired kid: err = %v, want ErrUnknownKey", err)
	}

	wantKIDs := func(t *testing.T, s signer.Signer, want ...string) []signer.Key {
		t.Helper()
		keys, err := s.PublicKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range keys {
			got = append(got, k.ID)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("published %v, want %v", got, want)
		}
		return keys
	}
	keys := wantKIDs(t, l, next.ID, old.ID)
	if !keys[1].NotAfter.Equal(clk.Now().Add(10 * time.Minute)) {
		t.Fatalf("retired NotAfter %s", keys[1].NotAfter)
	}
	verifyRaw(t, oldToken, keys[1])

	// A restart keeps both the new key and the retired one.
	reopened := openLocal(t, cfg)
	wantKIDs(t, reopened, next.ID, old.ID)

	// Past Retain the old key is no longer published, and the next
	// rotation drops it from the file.
	clk.Add(10*time.Minute + time.Second)
	wantKIDs(t, reopened, next.ID)
	third, err := reopened.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantKIDs(t, openLocal(t, cfg), third.ID, next.ID)
	data, _ := os.ReadFile(path + ".retired.json")
	if strings.Contains(string(data), old.ID) {
		t.Fatal("expired key still in the retired file")
	}
	if strings.Contains(string(data), `"d"`) {
		t.Fatal("retired file holds private key material")
	}
}

func TestLocalFileConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  signer.LocalConfig
	}{
		{"no path", signer.LocalConfig{}},
		{"bad algorithm", signer.LocalConfig{Path: filepath.Join(dir, "a.pem"), Algorithm: "HS256"}},
		{"negative retain", signer.LocalConfig{Path: filepath.Join(dir, "b.pem"), Retain: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := signer.OpenLocalFile(tt.cfg); err == nil {
				t.Fatal("bad config accepted")
			}
		})
	}
}
