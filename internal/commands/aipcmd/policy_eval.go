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

// Exit statuses of `aip policy eval`, so scripts can branch on the decision.
const (
	evalExitDeny = 1 // deny (also a policy whose signature does not verify)
	evalExitErr  = 2 // the policy or request could not be read (also usage errors)
	evalExitAsk  = 3 // ask: a person would have to approve the call
)

func policyEvalCommand() *cli.Command {
	var policyPath, requestPath, home, workDir, keyPath string
	return &cli.Command{
		Name:    "eval",
		Summary: "print the decision for one JSON-RPC request",
		Usage:   "--policy FILE [--request FILE|-] [--trusted-key FILE]",
		Help: "Reads a JSON-RPC request ({method, params}) from --request or stdin and prints\n" +
			"the decision as JSON: decision, code, message, reason, audit, failed_rule, failed_arg, tool, data.\n\n" +
			"Exit status: 0 allow or allow_monitor (forwarded), 1 deny, 3 ask, 2 when the policy or\n" +
			"request cannot be read. With --trusted-key, a policy whose signature does not verify\n" +
			"is decided as the enforcer would (-32010, exit 1).",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&policyPath, "policy", "", "policy `FILE` (required)")
			fs.StringVar(&requestPath, "request", "-", "request `FILE`, or - for stdin")
			fs.StringVar(&home, "home", "", "home `DIR` for ~ (default: yours)")
			fs.StringVar(&workDir, "workdir", "", "`DIR` relative paths are resolved against (default: current)")
			trustedKeyFlag(fs, &keyPath)
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if policyPath == "" || len(args) != 0 {
				return cli.Usagef("--policy is required and no arguments are taken")
			}
			key, err := loadTrustedKey(keyPath)
			if err != nil {
				return &cli.ExitError{Code: evalExitErr, Err: err}
			}
			d, err := evalRequest(ctx, env, policy.Options{HomeDir: home, WorkDir: workDir, TrustedKey: key}, policyPath, requestPath)
			if err != nil {
				return &cli.ExitError{Code: evalExitErr, Err: err}
			}
			if err := writeDecision(env.Stdout, d); err != nil {
				return &cli.ExitError{Code: evalExitErr, Err: err}
			}
			switch d.Action {
			case policy.ActionDeny:
				return &cli.ExitError{Code: evalExitDeny}
			case policy.ActionAsk:
				return &cli.ExitError{Code: evalExitAsk}
			}
			return nil
		},
	}
}

// evalRequest loads the policy and decides the request. A signature that
// does not verify is a decision (LoadFailure), not an error.
func evalRequest(ctx context.Context, env cli.Env, opts policy.Options, policyPath, requestPath string) (policy.Decision, error) {
	p, err := policy.Load(policyPath, opts)
	if errors.Is(err, policy.ErrSignatureInvalid) {
		fmt.Fprintf(env.Stderr, "aip policy eval: %v\n", err)
		return policy.LoadFailure(err), nil
	}
	if err != nil {
		return policy.Decision{}, err
	}
	raw, err := readRequest(env, requestPath)
	if err != nil {
		return policy.Decision{}, err
	}
	var req struct {
		Method *string         `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return policy.Decision{}, fmt.Errorf("request is not a JSON-RPC object: %w", err)
	}
	if req.Method == nil {
		// An empty method is a request to decide (and refuse); no method
		// member at all is a response, which the enforcer always forwards.
		return policy.Decision{}, errors.New("the message has no method member: it is a response, which the enforcer forwards without a policy decision; give a request or notification")
	}
	return p.Evaluate(ctx, *req.Method, req.Params), nil
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
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write decision: %w", err)
	}
	return nil
}
