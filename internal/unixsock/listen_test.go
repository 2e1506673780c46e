//go:build linux

package unixsock_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/aip-project/aip/internal/unixsock"
)

func TestListenModes(t *testing.T) {
	tests := []struct {
		name              string
		gid               int
		wantSock, wantDir fs.FileMode
	}{
		{"owner only", -1, 0o600, 0o700},
		{"with a group", os.Getgid(), 0o660, 0o750},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run", "aip")
			path := filepath.Join(dir, "admin.sock")
			ln := listen(t, path, tt.gid)
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != tt.wantSock {
				t.Errorf("socket mode %v, want a socket %v", fi.Mode(), tt.wantSock)
			}
			di, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if di.Mode().Perm() != tt.wantDir {
				t.Errorf("created parent mode %v, want %v", di.Mode().Perm(), tt.wantDir)
			}
			if tt.gid >= 0 {
				for _, info := range []fs.FileInfo{fi, di} {
					if st, ok := info.Sys().(*syscall.Stat_t); !ok || int(st.Gid) != tt.gid {
						t.Errorf("%s: group %v, want %d", info.Name(), info.Sys(), tt.gid)
					}
				}
			}
			if err := ln.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after Close: %v, want the socket removed", err)
			}
		})
	}
}

// An existing parent directory is not chmod'ed (it may be shared).
func TestListenLeavesExistingParent(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	listen(t, filepath.Join(dir, "admin.sock"), -1)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("parent: %v, %v; want 0755 untouched", fi.Mode(), err)
	}
}

// A socket left by a process that is gone is replaced.
func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	ln := listen(t, path, -1)
	assertServes(t, ln, path)
}

// A socket a live process accepts on is not taken over.
func TestListenRefusesLiveSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	live := listen(t, path, -1)
	_, err := unixsock.Listen(context.Background(), path, -1)
	if !errors.Is(err, unixsock.ErrInUse) {
		t.Fatalf("Listen over a live socket: %v, want ErrInUse", err)
	}
	assertServes(t, live, path)
}

// Anything but a socket at the path is refused and left alone.
func TestListenRefusesNonSocket(t *testing.T) {
	tests := []struct {
		name   string
		create func(t *testing.T, path string)
	}{
		{"regular file", func(t *testing.T, path string) { writeFile(t, path) }},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink to a file", func(t *testing.T, path string) {
			target := path + ".target"
			writeFile(t, target)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"dangling symlink", func(t *testing.T, path string) {
			if err := os.Symlink(path+".nowhere", path); err != nil {
				t.Fatal(err)
			}
		}},
		{"named pipe", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "admin.sock")
			tt.create(t, path)
			before, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			ln, err := unixsock.Listen(context.Background(), path, -1)
			if err == nil {
				_ = ln.Close()
				t.Fatal("Listen succeeded over a non-socket")
			}
			if !errors.Is(err, unixsock.ErrNotSocket) {
				t.Fatalf("Listen: %v, want ErrNotSocket", err)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) || after.Mode() != before.Mode() {
				t.Fatalf("the file at the path was touched: %v, %v", after, err)
			}
		})
	}
}

func TestListenRefusesFileAsParent(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "file")
	writeFile(t, parent)
	if ln, err := unixsock.Listen(context.Background(), filepath.Join(parent, "admin.sock"), -1); err == nil {
		_ = ln.Close()
		t.Fatal("Listen under a regular file succeeded")
	}
}

func TestPeerUID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	ln := listen(t, path, -1)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer server.Close()
	uid, err := unixsock.PeerUID(server)
	if err != nil || int(uid) != os.Getuid() {
		t.Fatalf("PeerUID = %d, %v; want %d", uid, err, os.Getuid())
	}

	// Not a Unix connection: no credentials, an error (callers refuse).
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := unixsock.PeerUID(a); err == nil {
		t.Fatal("PeerUID of a pipe succeeded")
	}
}

func listen(t *testing.T, path string, gid int) net.Listener {
	t.Helper()
	ln, err := unixsock.Listen(context.Background(), path, gid)
	if err != nil {
		t.Fatalf("Listen(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// assertServes checks that a client dialing path reaches ln.
func assertServes(t *testing.T, ln net.Listener, path string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			err = c.Close()
		}
		done <- err
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	_ = c.Close()
	if err := <-done; err != nil {
		t.Fatalf("accept: %v", err)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
