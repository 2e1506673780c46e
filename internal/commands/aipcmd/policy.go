package aipcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/cli"
)

// maxRequestSize bounds a request read by `aip policy eval`.
const maxRequestSize = 4 << 20

func policyCommand() *cli.Command {
	return &cli.Command{
		Name:    "policy",
		Summary: "lint, hash, evaluate and test AgentPolicy files",
		Commands: []*cli.Command{
			{
				Name: "lint", Summary: "validate a policy and warn about likely mistakes", Usage: "FILE",
				Help: "Validates FILE strictly (every problem with its key path; exit 1) and prints warnings (exit 0).",
				Run:  runPolicyLint,
			},
			{
				Name: "hash", Summary: "print the policy hash (SHA-256 of the canonical policy)", Usage: "FILE",
				Run: runPolicyHash,
			},
			policyEvalCommand(),
			{
				Name: "test", Summary: "run policy test files (exit 1 on failure)", Usage: "FILE...",
				Help: "Runs YAML test files of requests and expected decisions; see examples/policies/README.md.",
				Run:  runPolicyTest,
			},
		},
	}
}

func runPolicyLint(_ context.Context, env cli.Env, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("want exactly one FILE")
	}
	doc, err := policy.ReadFile(args[0])
	var verr *policy.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Fprintf(env.Stdout, "%s: error: %s\n", args[0], p)
		}
		return &cli.ExitError{Code: 1}
	}
	if err != nil {
		return err
	}
	warnings := policy.Lint(doc)
	for _, w := range warnings {
		fmt.Fprintf(env.Stdout, "%s: warning: %s\n", args[0], w)
	}
	if len(warnings) == 0 {
		fmt.Fprintf(env.Stdout, "%s: ok\n", args[0])
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

func policyEvalCommand() *cli.Command {
	var policyPath, requestPath, home, workDir string
	return &cli.Command{
		Name:    "eval",
		Summary: "print the decision for one JSON-RPC request",
		Usage:   "--policy FILE [--request FILE|-]",
		Help: "Reads a JSON-RPC request ({method, params}) from --request or stdin and prints\n" +
			"the decision as JSON: decision, code, message, reason, audit, failed_rule, failed_arg, tool, data.",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&policyPath, "policy", "", "policy `FILE` (required)")
			fs.StringVar(&requestPath, "request", "-", "request `FILE`, or - for stdin")
			fs.StringVar(&home, "home", "", "home `DIR` for ~ (default: yours)")
			fs.StringVar(&workDir, "workdir", "", "`DIR` relative paths are resolved against (default: current)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if policyPath == "" || len(args) != 0 {
				return cli.Usagef("--policy is required and no arguments are taken")
			}
			p, err := policy.Load(policyPath, policy.Options{HomeDir: home, WorkDir: workDir})
			if err != nil {
				return err
			}
			raw, err := readRequest(env, requestPath)
			if err != nil {
				return err
			}
			var req struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			}
			if err := json.Unmarshal(raw, &req); err != nil {
				return fmt.Errorf("request is not a JSON-RPC object: %w", err)
			}
			return writeDecision(env.Stdout, p.Evaluate(ctx, req.Method, req.Params))
		},
	}
}

func readRequest(env cli.Env, path string) ([]byte, error) {
	r := env.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open request: %w", err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxRequestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	if len(raw) > maxRequestSize {
		return nil, fmt.Errorf("request larger than %d bytes", maxRequestSize)
	}
	return raw, nil
}

func writeDecision(w io.Writer, d policy.Decision) error {
	out := struct {
		Decision   string         `json:"decision"`
		Code       int            `json:"code"`
		Message    string         `json:"message,omitempty"`
		Reason     string         `json:"reason,omitempty"`
		Audit      string         `json:"audit,omitempty"`
		Violation  bool           `json:"violation"`
		FailedRule string         `json:"failed_rule,omitempty"`
		FailedArg  string         `json:"failed_arg,omitempty"`
		Tool       string         `json:"tool,omitempty"`
		Data       map[string]any `json:"data,omitempty"`
	}{d.Action.String(), int(d.Code), d.Message, d.Reason, d.AuditDecision, d.Violation,
		d.FailedRule, d.FailedArg, d.Tool, d.Data}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write decision: %w", err)
	}
	return nil
}

func runPolicyTest(ctx context.Context, env cli.Env, args []string) error {
	if len(args) == 0 {
		return cli.Usagef("want at least one FILE")
	}
	passed, failed := 0, 0
	for _, file := range args {
		results, err := policy.RunTestFile(ctx, file)
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
