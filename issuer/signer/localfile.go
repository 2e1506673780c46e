package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxKeyFile bounds what is read from a key file.
const maxKeyFile = 1 << 20

func retiredPath(keyPath string) string { return keyPath + ".retired.json" }

// readSecure reads a regular file that neither group nor others can access.
func readSecure(path string) ([]byte, error) {
	f, err := os.Open(path) //nolint:gosec // the path is the operator's configuration
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, want 0600", ErrInsecureKeyFile, path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxKeyFile)
	}
	return data, nil
}

func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := readSecure(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: no PEM PRIVATE KEY block (PKCS#8)", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: parse pkcs#8: %w", path, err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: ecdsa key not on P-256", path)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%s: %T key: want ed25519 or ecdsa p-256", path, key)
	}
}

func encodePrivateKey(priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal pkcs#8: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// createPrivateKey writes a new key file, failing if one appeared meanwhile
// (two processes starting at once never overwrite each other's key).
func createPrivateKey(path string, priv crypto.Signer) error {
	data, err := encodePrivateKey(priv)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// replacePrivateKey atomically replaces the key file.
func replacePrivateKey(path string, priv crypto.Signer) error {
	data, err := encodePrivateKey(priv)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

func writeAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new 0600 file beside path and returns its name.
func writeTemp(path string, data []byte) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create key directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create temp file: %w", err)
	}
	name := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// retiredFile is the JSON form of Path+".retired.json".
type retiredFile struct {
	Keys []retiredKey `json:"keys"`
}

type retiredKey struct {
	NotAfter time.Time       `json:"not_after"`
	JWK      jose.JSONWebKey `json:"jwk"` // public; kid and alg set
}

func readRetired(path string) ([]Key, error) {
	data, err := readSecure(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f retiredFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keys := make([]Key, 0, len(f.Keys))
	for i, rk := range f.Keys {
		if !rk.JWK.IsPublic() {
			return nil, fmt.Errorf("%s: keys[%d]: not a public key", path, i)
		}
		k, err := keyOf(rk.JWK.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: keys[%d]: %w", path, i, err)
		}
		if k.ID != rk.JWK.KeyID || k.Algorithm != rk.JWK.Algorithm {
			return nil, fmt.Errorf("%s: keys[%d]: kid or alg does not match the key", path, i)
		}
		k.NotAfter = rk.NotAfter
		keys = append(keys, k)
	}
	return keys, nil
}

func writeRetired(path string, keys []Key) error {
	f := retiredFile{Keys: make([]retiredKey, 0, len(keys))}
	for _, k := range keys {
		f.Keys = append(f.Keys, retiredKey{
			NotAfter: k.NotAfter.UTC(),
			JWK:      jose.JSONWebKey{Key: k.Public, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"},
		})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode retired keys: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}
