package unixsock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Errors of Listen that callers branch on.
var (
	// ErrNotSocket: something other than a socket (a file, a directory, a
	// symlink) is at the path; Listen never removes it.
	ErrNotSocket = errors.New("not a socket")
	// ErrInUse: a process accepts connections on the socket already (or
	// it cannot be told that none does).
	ErrInUse = errors.New("socket in use")
)

// Modes of the socket file and of a parent directory Listen creates.
const (
	ModeOwner = 0o600 // no group: only the owner may connect
	ModeGroup = 0o660 // with a group: its members may connect too
	dirOwner  = 0o700
	dirGroup  = 0o750
)

// staleProbe bounds the dial that tells a live socket from a stale one.
const staleProbe = time.Second

// Listen listens on the Unix socket path. With gid -1 the socket file is
// ModeOwner and a parent directory it creates is 0700; with a gid it is
// ModeGroup owned by that group (the issuer's user must be a member, or
// root) and a created parent is 0750 with that group. An existing parent
// directory is left as it is. A socket already at path is removed if no
// process answers on it (ErrInUse if one does); anything else there is
// refused with ErrNotSocket. Closing the listener removes the socket.
//
// The mode is set right after bind: connections in between are possible
// if the parent directory lets others in, so a caller must authorize each
// connection by PeerUID, never by the mode alone.
func Listen(ctx context.Context, path string, gid int) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("unix socket: empty path")
	}
	if !supported {
		return nil, fmt.Errorf("unix socket %s: peer credentials (SO_PEERCRED) are not supported on this system", path)
	}
	if err := makeParent(filepath.Dir(path), gid); err != nil {
		return nil, err
	}
	if err := removeStale(ctx, path); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on unix socket: %w", err)
	}
	mode := os.FileMode(ModeOwner)
	if gid >= 0 {
		mode = ModeGroup
		if err := os.Chown(path, -1, gid); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("unix socket %s: set group %d: %w", path, gid, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	return ln, nil
}

// makeParent creates dir, private to the owner (and gid), when it does not
// exist.
func makeParent(dir string, gid int) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("unix socket directory %s: not a directory", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("unix socket directory: %w", err)
	}
	mode := os.FileMode(dirOwner)
	if gid >= 0 {
		mode = dirGroup
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("unix socket directory: %w", err)
	}
	if gid >= 0 {
		if err := os.Chown(dir, -1, gid); err != nil {
			return fmt.Errorf("unix socket directory %s: set group %d: %w", dir, gid, err)
		}
	}
	// MkdirAll's mode is masked by the umask; set it exactly.
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("unix socket directory: %w", err)
	}
	return nil
}

// removeStale removes a socket left at path by a process that is gone.
func removeStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("unix socket: %w", err)
	case fi.Mode().Type() != fs.ModeSocket:
		return fmt.Errorf("unix socket %s: %w: %s is there; remove it or choose another path", path, ErrNotSocket, kindOf(fi.Mode()))
	}
	// Only a refused connection proves nobody listens; any other failure
	// (a socket we may not connect to) leaves it be.
	d := net.Dialer{Timeout: staleProbe}
	c, err := d.DialContext(ctx, "unix", path)
	switch {
	case err == nil:
		_ = c.Close()
		return fmt.Errorf("unix socket %s: %w: another process accepts connections on it", path, ErrInUse)
	case !errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("unix socket %s: %w: cannot tell whether it is in use: %w", path, ErrInUse, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale unix socket: %w", err)
	}
	return nil
}

func kindOf(m fs.FileMode) string {
	switch m.Type() {
	case 0:
		return "a regular file"
	case fs.ModeDir:
		return "a directory"
	case fs.ModeSymlink:
		return "a symbolic link"
	case fs.ModeNamedPipe:
		return "a named pipe"
	}
	return "a special file"
}
