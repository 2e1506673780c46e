package agent

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/aip-project/aip/identity/dpop"
)

// maxKeyFile bounds the key files LoadKeyFile reads.
const maxKeyFile = 64 << 10

// LoadKeyFile reads an agent's native key: a PEM "PRIVATE KEY" (PKCS#8)
// holding an Ed25519 or P-256 key, as `aip agent keygen` writes it. The
// error never quotes the file's content.
func LoadKeyFile(path string) (*dpop.Key, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the path is the operator's configuration
	if err != nil {
		return nil, fmt.Errorf("agent key: %w", err)
	}
	return ParseKeyPEM(data)
}

// ParseKeyPEM parses a PEM PKCS#8 Ed25519 or P-256 private key.
func ParseKeyPEM(data []byte) (*dpop.Key, error) {
	if len(data) > maxKeyFile {
		return nil, errors.New("agent key: file too large")
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("agent key: not a PEM PRIVATE KEY (PKCS#8)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("agent key: malformed PKCS#8")
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("agent key: %T is not a signing key", k)
	}
	key, err := dpop.NewKeyFrom(signer)
	if err != nil {
		return nil, fmt.Errorf("agent key: %w", err)
	}
	return key, nil
}
