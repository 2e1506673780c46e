package aipcmd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/cli"
)

func policySignCommand() *cli.Command {
	var keyPath string
	var write bool
	return &cli.Command{
		Name:    "sign",
		Summary: "sign a policy (sets metadata.signature)",
		Usage:   "--key FILE [--write] POLICY",
		Help: "Signs POLICY with the ed25519 private key in FILE (PEM, PKCS #8, as written by\n" +
			"'aip policy keygen' or 'openssl genpkey -algorithm ed25519') and prints the policy with\n" +
			"metadata.signature set, or with --write replaces POLICY. Comments are kept; the policy hash\n" +
			"does not change. Verify with 'aip policy lint --trusted-key PUBLIC POLICY'.",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyPath, "key", "", "PEM ed25519 private key `FILE` (required)")
			fs.BoolVar(&write, "write", false, "replace POLICY instead of printing the signed policy")
		},
		Run: func(_ context.Context, env cli.Env, args []string) error {
			if keyPath == "" || len(args) != 1 {
				return cli.Usagef("--key and exactly one POLICY are required")
			}
			key, err := policy.ReadPrivateKey(keyPath)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read policy: %w", err)
			}
			signed, err := policy.SignYAML(data, key)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if !write {
				if _, err := env.Stdout.Write(signed); err != nil {
					return fmt.Errorf("write signed policy: %w", err)
				}
				return nil
			}
			return replaceFile(args[0], signed)
		},
	}
}

// replaceFile writes data to path atomically (a temporary file in the same
// directory, renamed over it), keeping path's permissions.
func replaceFile(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

func policyKeygenCommand() *cli.Command {
	var keyPath, pubPath string
	return &cli.Command{
		Name:    "keygen",
		Summary: "create an ed25519 key pair for signing policies",
		Usage:   "--key FILE --pub FILE",
		Help: "Writes a new ed25519 private key (PEM, PKCS #8, mode 0600) to --key and its public key\n" +
			"(PEM) to --pub. Existing files are never overwritten. Sign with 'aip policy sign --key';\n" +
			"give the public key to 'aip policy lint|eval|test --trusted-key'.",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&keyPath, "key", "", "private key `FILE` to create (required)")
			fs.StringVar(&pubPath, "pub", "", "public key `FILE` to create (required)")
		},
		Run: func(_ context.Context, env cli.Env, args []string) error {
			if keyPath == "" || pubPath == "" || len(args) != 0 {
				return cli.Usagef("--key and --pub are required and no arguments are taken")
			}
			_, key, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return fmt.Errorf("generate key: %w", err)
			}
			priv, pub, err := policy.MarshalKeyPair(key)
			if err != nil {
				return err
			}
			if err := createFile(keyPath, priv, 0o600); err != nil {
				return err
			}
			if err := createFile(pubPath, pub, 0o644); err != nil {
				return errors.Join(err, os.Remove(keyPath))
			}
			fmt.Fprintf(env.Stdout, "wrote %s (private, keep it secret) and %s (public)\n", keyPath, pubPath)
			return nil
		},
	}
}

// createFile writes a new file; it fails if path exists.
func createFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm) //nolint:gosec // the operator's own output path
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
