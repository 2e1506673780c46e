package approval

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// DefaultTTY is the terminal device TTY prompts on.
const DefaultTTY = "/dev/tty"

// TTY approves by prompting a person on the controlling terminal. Prompts
// are asked one at a time; the answer must start with y or Y to approve.
type TTY struct {
	// Path is the terminal device; empty means DefaultTTY.
	Path string

	mu sync.Mutex // one prompt at a time
}

var _ Approver = (*TTY)(nil)

// TTYAvailable reports whether path (empty: DefaultTTY) can be opened for
// prompting.
func TTYAvailable(path string) bool {
	if path == "" {
		path = DefaultTTY
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	_ = f.Close()
	return true
}

// Approve prints the request on the terminal and waits for y/N.
func (t *TTY) Approve(ctx context.Context, req Request) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("approval prompt: %w", err)
	}
	path := t.Path
	if path == "" {
		path = DefaultTTY
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("approval prompt: open terminal: %w", err)
	}
	defer f.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetDeadline(dl) // not every terminal is pollable; closing below still ends the wait
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetDeadline(time.Now()) })
	defer stop()

	if _, err := fmt.Fprintf(f, "\naip-enforcer: the agent wants to call %q (policy %s, args sha256 %.12s)\n  arguments: %s\nAllow this call? [y/N] ",
		req.Tool, req.Policy, req.ArgsSHA256, truncate(string(req.Arguments), 2000)); err != nil {
		return false, fmt.Errorf("approval prompt: write: %w", err)
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	if ctx.Err() != nil {
		_, _ = fmt.Fprintln(f, "\n(no answer in time: denied)")
		return false, fmt.Errorf("approval prompt: %w", ctx.Err())
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && line == "" {
		return false, fmt.Errorf("approval prompt: read answer: %w", err)
	}
	answer := strings.TrimSpace(line)
	return strings.HasPrefix(answer, "y") || strings.HasPrefix(answer, "Y"), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
