package signer_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/signer"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openLocal(t *testing.T, cfg signer.LocalConfig) *signer.LocalFile {
	t.Helper()
	l, err := signer.OpenLocalFile(cfg)
	if err != nil {
		t.Fatalf("OpenLocalFile: %v", err)
	}
	return l
}

// verifyRaw checks a compact JWS with crypto/ed25519 or crypto/ecdsa
// directly, independently of the code under test.
func verifyRaw(t *testing.T, token string, k signer.Key) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	input := []byte(parts[0] + "." + parts[1])
	switch pub := k.Public.(type) {
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, input, sig) {
			t.Fatal("ed25519 signature does not verify")
		}
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			t.Fatalf("es256 signature of %d bytes", len(sig))
		}
		d := sha256.Sum256(input)
		if !ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			t.Fatal("ecdsa signature does not verify")
		}
	default:
		t.Fatalf("unexpected key type %T", pub)
	}
}
