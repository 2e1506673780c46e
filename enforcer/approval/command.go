package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Command approves by running a shell command, as ssh-askpass does: `sh -c
// Cmd` gets the Request as JSON on stdin; exit status 0 approves, any other
// status denies. The command and everything it started are killed when the
// context ends.
type Command struct {
	// Cmd is the shell command line.
	Cmd string
	// Output receives the command's stdout and stderr (never the proxy's
	// protocol stream). Nil discards them.
	Output io.Writer
}

var _ Approver = (*Command)(nil)

// Approve runs the command for req.
func (c *Command) Approve(ctx context.Context, req Request) (bool, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return false, fmt.Errorf("approval command: encode request: %w", err)
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Cmd)
	cmd.Stdin = bytes.NewReader(append(in, '\n'))
	out := c.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that on timeout the whole command (sh and
	// whatever it started) is killed, not only the shell.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return false, fmt.Errorf("approval command: %w", ctx.Err())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit):
		return false, nil
	}
	return false, fmt.Errorf("approval command: %w", err)
}
