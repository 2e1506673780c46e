package stdio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
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

	mu  sync.Mutex
	cmd *exec.Cmd
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
	cmd := exec.CommandContext(ctx, p.cfg.Command[0], p.cfg.Command[1:]...)
	cmd.Dir, cmd.Env, cmd.Stderr = p.cfg.Dir, p.cfg.Env, p.cfg.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	childIn, err := cmd.StdinPipe()
	if err != nil {
		return 1, fmt.Errorf("stdio proxy: %w", err)
	}
	// An *os.File for stdout: Wait then returns when the child exits,
	// without waiting for a grandchild that inherited the pipe.
	childOut, childOutW, err := os.Pipe()
	if err != nil {
		return 1, fmt.Errorf("stdio proxy: %w", err)
	}
	defer childOut.Close()
	cmd.Stdout = childOutW
	err = cmd.Start()
	_ = childOutW.Close() // the child holds its copy
	if err != nil {
		return 127, fmt.Errorf("stdio proxy: start %s: %w", p.cfg.Command[0], err)
	}
	p.mu.Lock()
	p.cmd = cmd
	p.mu.Unlock()
	log := p.cfg.Logger.With("pid", cmd.Process.Pid)
	log.Info("MCP server started", "command", p.cfg.Command[0])

	r := newRelay(p.cfg.Engine, childIn, out, p.cfg.MaxMessageSize, log)
	go func() {
		if err := r.clientLoop(ctx, in); err != nil {
			log.Warn("client input ended with an error", "err", err)
		}
		_ = childIn.Close() // end of input: the server sees EOF
	}()
	serverDone := make(chan struct{})
	go func() {
		defer close(serverDone)
		if err := r.serverLoop(ctx, childOut); err != nil {
			log.Warn("server output ended with an error", "err", err)
		}
	}()
	go func() {
		select {
		case <-r.clientGone:
			log.Info("client is gone; stopping the MCP server")
			_ = cmd.Process.Signal(syscall.SIGTERM)
		case <-serverDone:
		}
	}()

	waitErr := cmd.Wait()
	select {
	case <-serverDone:
	case <-time.After(drainTimeout):
		_ = childOut.Close()
		<-serverDone
	}
	code := exitCode(cmd.ProcessState)
	log.Info("MCP server exited", "code", code)
	var exit *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exit) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return code, fmt.Errorf("stdio proxy: wait for %s: %w", p.cfg.Command[0], waitErr)
	}
	return code, nil
}

// Signal sends sig to the child, if it runs.
func (p *Proxy) Signal(sig os.Signal) error {
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return errors.New("stdio proxy: no child process")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("stdio proxy: signal child: %w", err)
	}
	return nil
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
