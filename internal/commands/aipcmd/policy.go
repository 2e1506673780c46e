package aipcmd

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/cli"
)

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:    "policy",
		Summary: "lint, hash, sign, evaluate and test AgentPolicy files",
		Commands: []*cli.Command{
			policyLintCommand(),
			{
				Name: "hash", Summary: "print the policy hash (SHA-256 of the canonical policy)", Usage: "FILE",
				Run: runPolicyHash,
			},
			policyEvalCommand(),
			policyTestCommand(),
			policySignCommand(),
			policyKeygenCommand(),
		},
	}
}

// trustedKeyFlag declares --trusted-key on fs.
func trustedKeyFlag(fs *flag.FlagSet, path *string) {
	fs.StringVar(path, "trusted-key", "", "PEM ed25519 public key `FILE`: metadata.signature must verify against it")
}

// loadTrustedKey reads the --trusted-key file; nil when none is given.
func loadTrustedKey(path string) (ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	k, err := policy.ReadPublicKey(path)
	if err != nil {
		return nil, fmt.Errorf("--trusted-key: %w", err)
	}
	return k, nil
}

func policyLintCommand() *cli.Command {
	var keyPath string
	return &cli.Command{
		Name: "lint", Summary: "validate a policy and warn about likely mistakes", Usage: "[--trusted-key FILE] FILE",
		Help: "Validates FILE strictly (every problem with its key path; exit 1) and prints warnings (exit 0).\n" +
			"With --trusted-key, metadata.signature must also verify against that key (exit 1 otherwise).",
		Flags: func(fs *flag.FlagSet) { trustedKeyFlag(fs, &keyPath) },
		Run: func(_ context.Context, env cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one FILE")
			}
			key, err := loadTrustedKey(keyPath)
			if err != nil {
				return err
			}
			return lintPolicy(env, args[0], key)
		},
	}
}

func lintPolicy(env cli.Env, file string, key ed25519.PublicKey) error {
	doc, err := policy.ReadFile(file)
	var verr *policy.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Fprintf(env.Stdout, "%s: error: %s\n", file, p)
		}
		return &cli.ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	if key != nil {
		if err := policy.VerifySignature(doc, key); err != nil {
			fmt.Fprintf(env.Stdout, "%s: error: metadata.signature: %v\n", file, err)
			return &cli.ExitError{Code: 1}
		}
	}
	warnings := policy.Lint(doc)
	for _, w := range warnings {
		fmt.Fprintf(env.Stdout, "%s: warning: %s\n", file, w)
	}
	if len(warnings) == 0 {
		fmt.Fprintf(env.Stdout, "%s: ok\n", file)
	}
	return nil
}

func runPolicyHash(_ context.Context, env cli.Env, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("want exactly one FILE")
	}
	doc, err := policy.ReadFile(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, doc.Hash())
	return nil
}

func policyTestCommand() *cli.Command {
	var keyPath string
	return &cli.Command{
		Name: "test", Summary: "run policy test files (exit 1 on failure)", Usage: "[--trusted-key FILE] FILE...",
		Help: "Runs YAML test files of requests and expected decisions; see examples/policies/README.md.\n" +
			"With --trusted-key, a policy whose signature does not verify decides every case as -32010.",
		Flags: func(fs *flag.FlagSet) { trustedKeyFlag(fs, &keyPath) },
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) == 0 {
				return cli.Usagef("want at least one FILE")
			}
			key, err := loadTrustedKey(keyPath)
			if err != nil {
				return err
			}
			return runPolicyTests(ctx, env, args, policy.TestOptions{TrustedKey: key})
		},
	}
}

func runPolicyTests(ctx context.Context, env cli.Env, files []string, opts policy.TestOptions) error {
	passed, failed := 0, 0
	for _, file := range files {
		results, err := policy.RunTestFile(ctx, file, opts)
		if err != nil {
			fmt.Fprintf(env.Stdout, "%s: error: %v\n", file, err)
			failed++
			continue
		}
		for _, r := range results {
			if r.Passed() {
				passed++
				fmt.Fprintf(env.Stdout, "PASS %s: %s\n", file, r.Name)
				continue
			}
			failed++
			fmt.Fprintf(env.Stdout, "FAIL %s: %s\n", file, r.Name)
			for _, f := range r.Failures {
				fmt.Fprintf(env.Stdout, "     %s\n", f)
			}
		}
	}
	fmt.Fprintf(env.Stdout, "policy tests: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return &cli.ExitError{Code: 1}
	}
	return nil
}
