package aipcmd

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/internal/cli"
)

// Agent key files: the private key is PEM PKCS#8 ("PRIVATE KEY", mode
// 0600), the public key PEM PKIX ("PUBLIC KEY") beside it as FILE.pub.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// generateAgentKey makes an Ed25519 (alg "" or EdDSA) or P-256 (ES256) key.
func generateAgentKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "", jwk.EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case jwk.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("algorithm %q: want %s or %s", alg, jwk.EdDSA, jwk.ES256)
}

// writeAgentKey writes priv to path (0600) and its public key to
// path.pub, refusing to overwrite either.
func writeAgentKey(path string, priv crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return fmt.Errorf("encode public key: %w", err)
	}
	for _, p := range []string{path, path + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists: refusing to overwrite it", p)
		}
	}
	if err := createExclusive(path, pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), 0o600); err != nil {
		return err
	}
	if err := createExclusive(path+".pub", pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: pubDER}), 0o644); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}

// createExclusive creates path with mode perm; it fails if path exists.
func createExclusive(path string, data []byte, perm os.FileMode) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm) //nolint:gosec // the path is the user's argument
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: refusing to overwrite it", path)
		}
		return fmt.Errorf("create key file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
		if err != nil {
			_ = os.Remove(path)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// loadAgentKey reads a private agent key for DPoP proofs. Like ssh, it
// refuses a file group or others can read.
func loadAgentKey(path string) (*dpop.Key, error) {
	data, fi, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != pemPrivate {
		return nil, fmt.Errorf("key %s: no PEM %q block (PKCS#8): the agent's private key is needed", path, pemPrivate)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key %s has mode %04o: it must not be readable by group or others (chmod 600)", path, perm)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: parse pkcs#8: %w", path, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s: %T is not a signing key", path, k)
	}
	dk, err := dpop.NewKeyFrom(signer)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return dk, nil
}

// loadPublicKey reads the public part of an agent key file: a PEM public
// key, a PEM PKCS#8 private key (only its public half is kept), or a JWK.
func loadPublicKey(path string) (*jose.JSONWebKey, error) {
	data, _, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	var pub crypto.PublicKey
	switch block, _ := pem.Decode(data); {
	case block != nil && block.Type == pemPublic:
		if pub, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("key %s: parse public key: %w", path, err)
		}
	case block != nil && block.Type == pemPrivate:
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("key %s: parse pkcs#8: %w", path, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("key %s: %T is not a signing key", path, k)
		}
		pub = s.Public()
	case block == nil && json.Valid(data):
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("key %s: parse jwk: %w", path, err)
		}
		pub = k.Public().Key
	default:
		return nil, fmt.Errorf("key %s: want a PEM public or private key, or a JWK", path)
	}
	alg, err := jwk.Algorithm(pub)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return &jose.JSONWebKey{Key: pub, Algorithm: alg, Use: "sig"}, nil
}

func agentKeygenCommand() *cli.Command {
	var out, alg, output string
	return &cli.Command{
		Name: "keygen", Summary: "generate a native agent key pair", Usage: "--out FILE [--alg EdDSA|ES256]",
		Help: "Writes a new private key to FILE (PEM PKCS#8, mode 0600) and its public key to\n" +
			"FILE.pub, refusing to overwrite either, then prints the public JWK and its RFC 7638\n" +
			"thumbprint (the jkt of the agent's DPoP proofs). Register FILE.pub with\n" +
			"`aip agent register --key`; the private key never leaves the agent.",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "out", "", "private key `FILE` to create (required)")
			fs.StringVar(&alg, "alg", jwk.EdDSA, "key algorithm: EdDSA (Ed25519) or ES256 (P-256)")
			fs.StringVar(&output, "output", "table", "output format: table or json")
		},
		Run: func(_ context.Context, env cli.Env, args []string) error {
			if out == "" || len(args) != 0 {
				return cli.Usagef("--out is required and no arguments are taken")
			}
			if output != "table" && output != "json" {
				return cli.Usagef("--output %q: want table or json", output)
			}
			priv, err := generateAgentKey(alg)
			if err != nil {
				return cli.Usagef("--alg: %v", err)
			}
			if err := writeAgentKey(out, priv); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			alg, err := jwk.Algorithm(priv.Public())
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			tp, err := jwk.Thumbprint(priv.Public())
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
			if output == "json" {
				return writeJSON(env.Stdout, map[string]any{
					"private_key_file": out, "public_key_file": out + ".pub", "thumbprint": tp, "public_jwk": pub})
			}
			raw, err := pub.MarshalJSON()
			if err != nil {
				return fmt.Errorf("keygen: public jwk: %w", err)
			}
			fmt.Fprintf(env.Stdout, "private key: %s (mode 0600; keep it on the agent)\npublic key:  %s.pub\nthumbprint:  %s\npublic jwk:  %s\n",
				out, out, tp, raw)
			return nil
		},
	}
}
