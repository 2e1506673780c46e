package stdio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/internal/jsonrpc"
)

const (
	// drainTimeout is how long the proxy keeps reading the server's stdout
	// after the child exited (a grandchild may hold it open).
	drainTimeout = 2 * time.Second
	// stopGrace is how long the child has to exit after SIGTERM when the
	// proxy's context ends, before it is killed.
	stopGrace = 5 * time.Second
)

// Config configures a Proxy. Nil fields have the documented defaults.
type Config struct {
	// Engine decides every message. Required.
	Engine *enforcer.Engine
	// Command is the MCP server to start: the program and its arguments.
	// Required.
	Command []string
	// Dir is the child's working directory; empty: the proxy's.
	Dir string
	// Env is the child's environment; nil: the proxy's.
	Env []string
	// MaxMessageSize bounds a message in bytes, in both directions; zero:
	// jsonrpc.DefaultMaxMessageSize (4 MiB).
	MaxMessageSize int
	// Stderr receives the child's stderr. Nil discards it.
	Stderr io.Writer
	// Logger receives the proxy's logs (never message contents). Nil
	// discards.
	Logger *slog.Logger
}

// Proxy runs one MCP server behind the engine.
type Proxy struct {
	cfg Config

	mu    sync.Mutex
	child *Child
}

// New checks cfg and returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Engine == nil {
		return nil, errors.New("stdio proxy: no engine")
	}
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, errors.New("stdio proxy: no command to run")
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = jsonrpc.DefaultMaxMessageSize
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Proxy{cfg: cfg}, nil
}

// Run starts the child and relays between in/out (the client) and the
// child until the child exits, and returns the child's exit code (128+N
// when a signal N ended it). When ctx ends, the child gets SIGTERM, and is
// killed if it has not exited stopGrace later. An error means the child
// could not be started or run.
func (p *Proxy) Run(ctx context.Context, in io.Reader, out io.Writer) (int, error) {
	child, err := StartChild(ctx, ChildConfig{Command: p.cfg.Command, Dir: p.cfg.Dir, Env: p.cfg.Env, Stderr: p.cfg.Stderr})
	if err != nil {
		return 127, err
	}
	defer func() { _ = child.CloseStdout() }()
	p.mu.Lock()
	p.child = child
	p.mu.Unlock()
	log := p.cfg.Logger.With("pid", child.Pid())
	log.Info("MCP server started", "command", p.cfg.Command[0])

	r := newRelay(p.cfg.Engine, child.Stdin(), out, p.cfg.MaxMessageSize, log)
	go func() {
		if err := r.clientLoop(ctx, in); err != nil {
			log.Warn("client input ended with an error", "err", err)
		}
		_ = child.Stdin().Close() // end of input: the server sees EOF
	}()
	serverDone := make(chan struct{})
	go func() {
		defer close(serverDone)
		if err := r.serverLoop(ctx, child.Stdout()); err != nil {
			log.Warn("server output ended with an error", "err", err)
		}
	}()
	go func() {
		select {
		case <-r.clientGone:
			log.Info("client is gone; stopping the MCP server")
			_ = child.Signal(syscall.SIGTERM)
		case <-serverDone:
		}
	}()

	code, waitErr := child.Wait()
	select {
	case <-serverDone:
	case <-time.After(drainTimeout):
		_ = child.CloseStdout()
		<-serverDone
	}
	log.Info("MCP server exited", "code", code)
	if waitErr != nil {
		return code, waitErr
	}
	return code, nil
}

// Signal sends sig to the child, if it runs.
func (p *Proxy) Signal(sig os.Signal) error {
	p.mu.Lock()
	child := p.child
	p.mu.Unlock()
	if child == nil {
		return errors.New("stdio proxy: no child process")
	}
	return child.Signal(sig)
}

// exitCode is the shell's convention: the status, or 128+N for signal N.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
