package policy

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// maxKeyFile bounds a PEM key file.
const maxKeyFile = 64 << 10

// SignYAML signs the policy data with key and returns the policy with
// metadata.signature set (replaced if present). Comments and key order
// are kept; indentation becomes two spaces. The result is parsed and
// verified again before it is returned, so its hash is the input's.
func SignYAML(data []byte, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("sign policy: key is not an ed25519 private key")
	}
	doc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("sign policy: %w", err)
	}
	sig := Sign(doc, key)

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("sign policy: %w", err)
	}
	md := mappingValue(root.Content[0], "metadata")
	if md == nil || md.Kind != yaml.MappingNode {
		return nil, errors.New("sign policy: metadata must be written as a mapping (not an alias)")
	}
	value := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: sig, Style: yaml.DoubleQuotedStyle}
	if old := mappingValue(md, "signature"); old != nil {
		*old = *value
	} else {
		md.Content = append(md.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "signature"}, value)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("sign policy: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("sign policy: encode: %w", err)
	}
	signed, err := Parse(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("sign policy: re-encoded policy does not parse: %w", err)
	}
	if signed.Hash() != doc.Hash() {
		return nil, errors.New("sign policy: re-encoding changed the policy hash; add metadata.signature by hand")
	}
	if err := VerifySignature(signed, key.Public().(ed25519.PublicKey)); err != nil {
		return nil, fmt.Errorf("sign policy: %w", err)
	}
	return out.Bytes(), nil
}

// mappingValue returns the value node of key in mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// ParsePrivateKey decodes an ed25519 private key from PEM ("PRIVATE KEY",
// PKCS #8), as `openssl genpkey -algorithm ed25519` and `aip policy keygen`
// write it.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(data, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, not ed25519", k)
	}
	return priv, nil
}

// ParsePublicKey decodes an ed25519 public key from PEM ("PUBLIC KEY",
// PKIX), as `openssl pkey -pubout` and `aip policy keygen` write it.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(data, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, not ed25519", k)
	}
	return pub, nil
}

// ReadPublicKey reads a PEM ed25519 public key file: the trusted key that
// policy signatures are verified against (Options.TrustedKey).
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("trusted key %s: %w", path, err)
	}
	return k, nil
}

// ReadPrivateKey reads a PEM PKCS #8 ed25519 private key file.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if fi.Size() > maxKeyFile {
		return nil, fmt.Errorf("read key %s: larger than %d bytes", path, maxKeyFile)
	}
	data, err := os.ReadFile(path) //nolint:gosec // the path is the operator's own command-line argument
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	return data, nil
}

func pemBlock(data []byte, typ string) ([]byte, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("no PEM %q block found", typ)
		}
		if b.Type == typ {
			return b.Bytes, nil
		}
	}
}

// MarshalKeyPair returns key as PEM: the PKCS #8 private key and the PKIX
// public key, the formats ParsePrivateKey and ParsePublicKey read.
func MarshalKeyPair(key ed25519.PrivateKey) (private, public []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}
