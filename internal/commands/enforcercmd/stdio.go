package enforcercmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/enforcer/stdio"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/jsonrpc"
)

type stdioFlags struct {
	policy          string
	trustedKey      string
	audit           string
	approverCmd     string
	approvalTimeout time.Duration
	maxMessageSize  int
}

func stdioCommand() *cli.Command {
	var f stdioFlags
	return &cli.Command{
		Name:    "stdio",
		Summary: "enforce a policy in front of a stdio MCP server",
		Usage:   "--policy FILE [--trusted-key FILE] [--audit FILE] [--approver-cmd CMD] [--approval-timeout DUR] [--max-message-size N] -- COMMAND [ARGS...]",
		Help: `stdio starts COMMAND, an MCP server speaking newline-delimited JSON-RPC on
stdin/stdout, and relays between it and this process's stdin/stdout,
enforcing the AgentPolicy on every client message: methods, tool rules,
protected paths, rate limits, DLP and approvals for "ask" rules. Denials are
JSON-RPC errors with the AIP codes. stdout carries only protocol messages;
logs go to stderr, with the child's stderr.

With no loadable policy it refuses to start. The policy is reloaded when its
file changes and on SIGHUP; an invalid new policy leaves the old one in force.
SIGINT and SIGTERM are passed to COMMAND; the exit status is COMMAND's.

--trusted-key FILE (a PEM ed25519 public key, as "aip policy keygen" writes
it) makes metadata.signature required: an unsigned policy, or one whose
signature does not verify, refuses to start, and on reload is logged and
leaves the old policy in force.

The policy file and the --audit file, with its rotated siblings (names that
extend it, like FILE.1), are always protected paths: no tool call may name
them (-32007), whatever the policy says.

Approvals: --approver-cmd runs "sh -c CMD" with the call as JSON on stdin
(exit 0 approves); without it, a prompt on /dev/tty when there is one;
otherwise "ask" calls are denied.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.policy, "policy", "", "AgentPolicy YAML `FILE` (required)")
			fs.StringVar(&f.trustedKey, "trusted-key", "", "require the policy to be signed by the ed25519 public key in PEM `FILE`")
			fs.StringVar(&f.audit, "audit", "", "append hash-chained audit records to `FILE` (a protected path)")
			fs.StringVar(&f.approverCmd, "approver-cmd", "", "approve \"ask\" calls with `CMD` (sh -c; request JSON on stdin; exit 0 approves)")
			fs.DurationVar(&f.approvalTimeout, "approval-timeout", approval.DefaultTimeout, "deny an unanswered approval after `DUR`")
			fs.IntVar(&f.maxMessageSize, "max-message-size", jsonrpc.DefaultMaxMessageSize, "refuse messages over `N` bytes")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			return runStdio(ctx, env, f, args)
		},
	}
}

func runStdio(ctx context.Context, env cli.Env, f stdioFlags, args []string) error {
	switch {
	case f.policy == "":
		return cli.Usagef("--policy FILE is required")
	case len(args) == 0:
		return cli.Usagef("no MCP server command given (after --)")
	case f.approvalTimeout <= 0:
		return cli.Usagef("--approval-timeout must be positive")
	case f.maxMessageSize <= 0:
		return cli.Usagef("--max-message-size must be positive")
	}
	// Logs, the child's stderr and the approver's output share stderr.
	env.Stderr = syncWriter(env.Stderr)
	log := slog.New(slog.NewTextHandler(env.Stderr, nil)).With("component", "aip-enforcer")

	path, err := filepath.Abs(f.policy)
	if err != nil {
		return fmt.Errorf("policy path: %w", err)
	}
	opts, err := stdioPolicyOptions(f)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	p, err := policy.Load(path, opts)
	if err != nil {
		return fmt.Errorf("refusing to start, nothing is forwarded without a valid policy: %w", err)
	}

	var w *audit.Writer
	if f.audit != "" {
		if w, err = audit.Open(f.audit, audit.Config{Logger: log}); err != nil {
			return fmt.Errorf("refusing to start: %w", err)
		}
		defer func() {
			if err := w.Close(); err != nil {
				log.Error("closing the audit log failed", "err", err)
			}
		}()
	}

	engine, err := enforcer.New(enforcer.Config{
		Policy: p,
		Audit:  w,
		Gate: approval.NewGate(approval.GateConfig{
			Approver: chooseApprover(f.approverCmd, env), Timeout: f.approvalTimeout, Logger: log,
		}),
		Logger: log,
	})
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	proxy, err := stdio.New(stdio.Config{
		Engine: engine, Command: args, MaxMessageSize: f.maxMessageSize, Stderr: env.Stderr, Logger: log,
	})
	if err != nil {
		return err
	}
	log.Info("enforcing policy", "path", path, "policy", p.Name(), "policy_hash", p.Hash(), "mode", p.Mode(),
		"signature_required", opts.TrustedKey != nil)

	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reloader := &enforcer.Reloader{Path: path, Options: opts, Engine: engine, Logger: log}
	go func() {
		if err := reloader.Watch(watchCtx, hup); err != nil {
			log.Error("policy file watch stopped; SIGHUP still reloads", "err", err)
		}
	}()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			log.Info("passing signal to the MCP server", "signal", sig.String())
			if err := proxy.Signal(sig); err != nil {
				log.Warn("could not pass the signal on", "err", err)
			}
		}
	}()

	// The child ends on the signals passed to it, not on ctx: the proxy
	// outlives ctx's cancellation by SIGINT/SIGTERM until the child exits.
	code, err := proxy.Run(context.WithoutCancel(ctx), env.Stdin, env.Stdout)
	if err != nil {
		return &cli.ExitError{Code: code, Err: err}
	}
	if code != 0 {
		return &cli.ExitError{Code: code}
	}
	return nil
}

// stdioPolicyOptions are the options of the first load and of every
// reload: one rate limiter for both, the trusted key, and the audit log
// protected like the policy file.
func stdioPolicyOptions(f stdioFlags) (policy.Options, error) {
	opts := policy.Options{RateLimiter: policy.NewMemoryLimiter(nil)}
	if f.trustedKey != "" {
		key, err := policy.ReadPublicKey(f.trustedKey)
		if err != nil {
			return opts, err
		}
		opts.TrustedKey = key
	}
	if f.audit != "" {
		abs, err := filepath.Abs(f.audit)
		if err != nil {
			return opts, fmt.Errorf("audit path: %w", err)
		}
		opts.ExtraProtected = []string{abs}
	}
	return opts, nil
}

// chooseApprover picks --approver-cmd, else the terminal, else none.
func chooseApprover(cmd string, env cli.Env) approval.Approver {
	switch {
	case cmd != "":
		return &approval.Command{Cmd: cmd, Output: env.Stderr}
	case approval.TTYAvailable(""):
		return &approval.TTY{}
	}
	return approval.None{}
}

// syncWriter makes w safe for the concurrent writers sharing stderr. A
// file is already (each write is one system call) and is kept as is, so
// the child inherits it directly.
func syncWriter(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
