package stdio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// ChildConfig is an MCP server to start as a child process.
type ChildConfig struct {
	// Command is the program and its arguments. Required.
	Command []string
	// Dir is the child's working directory; empty: this process's.
	Dir string
	// Env is the child's environment; nil: this process's.
	Env []string
	// Stderr receives the child's stderr; nil discards it.
	Stderr io.Writer
}

// Child is a running MCP server speaking newline-delimited JSON-RPC on its
// stdin and stdout. When the context given to StartChild ends, the child
// gets SIGTERM, and is killed if it has not exited stopGrace later.
type Child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
}

// StartChild starts the server. The caller reads Stdout, writes Stdin
// (through a jsonrpc.Writer and Reader) and calls Wait once.
func StartChild(ctx context.Context, cfg ChildConfig) (*Child, error) {
	if len(cfg.Command) == 0 || cfg.Command[0] == "" {
		return nil, errors.New("stdio: no command to run")
	}
	cmd := exec.CommandContext(ctx, cfg.Command[0], cfg.Command[1:]...) //nolint:gosec // G204: the operator's configured server
	cmd.Dir, cmd.Env, cmd.Stderr = cfg.Dir, cfg.Env, cfg.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("stdio: %w", err)
	}
	// An *os.File for stdout: Wait then returns when the child exits,
	// without waiting for a grandchild that inherited the pipe.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("stdio: %w", err)
	}
	cmd.Stdout = stdoutW
	err = cmd.Start()
	_ = stdoutW.Close() // the child holds its copy
	if err != nil {
		_ = stdout.Close()
		return nil, fmt.Errorf("stdio: start %s: %w", cfg.Command[0], err)
	}
	return &Child{cmd: cmd, stdin: stdin, stdout: stdout}, nil
}

// Stdin is the child's standard input; closing it gives the server EOF.
func (c *Child) Stdin() io.WriteCloser { return c.stdin }

// Stdout is the child's standard output.
func (c *Child) Stdout() io.Reader { return c.stdout }

// CloseStdout stops reads of Stdout (a grandchild may hold it open after
// the child exited).
func (c *Child) CloseStdout() error { return c.stdout.Close() }

// Pid is the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Signal sends sig to the child.
func (c *Child) Signal(sig os.Signal) error {
	if err := c.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("stdio: signal child: %w", err)
	}
	return nil
}

// Wait waits for the child to exit and returns its exit code (128+N when
// signal N ended it). The error reports a failure to wait, not a non-zero
// exit.
func (c *Child) Wait() (int, error) {
	err := c.cmd.Wait()
	code := exitCode(c.cmd.ProcessState)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && !errors.Is(err, exec.ErrWaitDelay) {
		return code, fmt.Errorf("stdio: wait for %s: %w", c.cmd.Path, err)
	}
	return code, nil
}
