package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/aip-project/aip/identity/jwk"
)

// DefaultRetain is how long a retired key stays published by default: the
// longest AAT lifetime (1 h) plus a verifier skew allowance (5 min).
const DefaultRetain = 65 * time.Minute

// LocalConfig configures a LocalFile signer.
type LocalConfig struct {
	// Path of the private key file: PEM PKCS#8, mode 0600, generated on
	// first start if absent. Required. Retired public keys are kept beside
	// it in Path+".retired.json" (also 0600).
	Path string
	// Algorithm of generated keys: EdDSA (default, Ed25519) or ES256
	// (ECDSA P-256). An existing key file is used whatever its algorithm;
	// Rotate switches to this one.
	Algorithm string
	// Retain is how long a key stays published after Rotate retires it. It
	// must cover the longest token lifetime plus the verifiers' skew.
	// Zero means DefaultRetain.
	Retain time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// LocalFile is a Signer over a private key file: the embedded,
// single-machine default. Its kid is the RFC 7638 thumbprint of the key.
// It is safe for concurrent use by one process; two processes must not
// rotate the same file.
type LocalFile struct {
	cfg LocalConfig

	mu      sync.RWMutex
	priv    crypto.Signer
	current Key
	retired []Key // NotAfter set, oldest first
}

var _ Signer = (*LocalFile)(nil)

// OpenLocalFile loads the key at cfg.Path, generating it if the file does
// not exist. A key file or retired keys file readable or writable by group
// or others is refused with ErrInsecureKeyFile.
func OpenLocalFile(cfg LocalConfig) (*LocalFile, error) {
	if cfg.Path == "" {
		return nil, errors.New("local signer: key path is required")
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = EdDSA
	}
	if cfg.Algorithm != EdDSA && cfg.Algorithm != ES256 {
		return nil, fmt.Errorf("local signer: algorithm %q: want %s or %s", cfg.Algorithm, EdDSA, ES256)
	}
	if cfg.Retain < 0 {
		return nil, fmt.Errorf("local signer: negative retain %s", cfg.Retain)
	}
	if cfg.Retain == 0 {
		cfg.Retain = DefaultRetain
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &LocalFile{cfg: cfg}

	priv, err := readPrivateKey(cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		priv, err = generateKey(cfg.Algorithm)
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		if err := createPrivateKey(cfg.Path, priv); err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("local signer: %w", err)
	}
	current, err := keyOf(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("local signer: key %s: %w", cfg.Path, err)
	}
	retired, err := readRetired(retiredPath(cfg.Path))
	if err != nil {
		return nil, fmt.Errorf("local signer: %w", err)
	}
	l.priv, l.current, l.retired = priv, current, withoutKID(retired, current.ID)
	return l, nil
}

// Current returns the key new tokens are signed with.
func (l *LocalFile) Current(context.Context) (Key, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.current, nil
}

// Sign signs with the current key; any other kid is ErrUnknownKey (the
// private halves of retired keys are not kept).
func (l *LocalFile) Sign(_ context.Context, kid string, signingInput []byte) ([]byte, error) {
	l.mu.RLock()
	priv, current := l.priv, l.current
	l.mu.RUnlock()
	if kid != current.ID {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, kid)
	}
	return jwk.Sign(priv, signingInput)
}

// PublicKeys returns the current key, then every retired key whose
// NotAfter has not passed.
func (l *LocalFile) PublicKeys(context.Context) ([]Key, error) {
	now := l.cfg.Now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	keys := []Key{l.current}
	for _, k := range l.retired {
		if now.Before(k.NotAfter) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// Rotate generates a new key of cfg.Algorithm and makes it current. The
// old public key stays published for cfg.Retain. The retired keys file is
// written before the key file, so a crash never loses a published key.
func (l *LocalFile) Rotate(context.Context) (Key, error) {
	priv, err := generateKey(l.cfg.Algorithm)
	if err != nil {
		return Key{}, fmt.Errorf("rotate: %w", err)
	}
	next, err := keyOf(priv.Public())
	if err != nil {
		return Key{}, fmt.Errorf("rotate: %w", err)
	}
	now := l.cfg.Now()

	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.current
	old.NotAfter = now.Add(l.cfg.Retain)
	retired := make([]Key, 0, len(l.retired)+1)
	for _, k := range l.retired {
		if now.Before(k.NotAfter) {
			retired = append(retired, k)
		}
	}
	retired = append(retired, old)
	if err := writeRetired(retiredPath(l.cfg.Path), retired); err != nil {
		return Key{}, fmt.Errorf("rotate: %w", err)
	}
	if err := replacePrivateKey(l.cfg.Path, priv); err != nil {
		return Key{}, fmt.Errorf("rotate: %w", err)
	}
	l.priv, l.current, l.retired = priv, next, retired
	return next, nil
}

func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate p-256 key: %w", err)
		}
		return k, nil
	default:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ed25519 key: %w", err)
		}
		return k, nil
	}
}

// keyOf describes a public key, its kid being its RFC 7638 thumbprint.
func keyOf(pub crypto.PublicKey) (Key, error) {
	alg, err := jwk.Algorithm(pub)
	if err != nil {
		return Key{}, err
	}
	kid, err := jwk.Thumbprint(pub)
	if err != nil {
		return Key{}, err
	}
	return Key{ID: kid, Algorithm: alg, Public: pub}, nil
}

func withoutKID(keys []Key, kid string) []Key {
	out := keys[:0]
	for _, k := range keys {
		if k.ID != kid {
			out = append(out, k)
		}
	}
	return out
}
