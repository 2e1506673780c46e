//go:build linux

package issuer_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/unixsock"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
)

// newSocketIssuer builds an issuer (listen on a free port) whose admin
// socket is at socket.
func newSocketIssuer(t *testing.T, socket string) *issuer.Issuer {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`listen: "127.0.0.1:0"
issuer_url: "http://127.0.0.1:8443"
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
local_user: {enabled: true, user_id: carol}
admins: {socket: {path: %q}}
`, filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "store"), socket)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	is, err := issuer.New(context.Background(), cfg, issuer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = is.Close() })
	return is
}

// Run replaces a stale socket, serves the admin API to the issuer's own
// uid, and removes the socket when it stops.
func TestRunAdminSocket(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "admin.sock")
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	_ = stale.Close()

	is := newSocketIssuer(t, socket)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- is.Run(ctx) }()

	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}}}
	var resp *http.Response
	for range 100 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin/v1/agents", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err = c.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp == nil {
		t.Fatal("the admin socket never answered")
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/agents over the socket: %d", resp.StatusCode)
	}
	c.CloseIdleConnections()

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Lstat(socket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("socket after shutdown: %v, want removed", err)
	}
}

// Run refuses to start when a file that is not a socket is at the path,
// and leaves it alone.
func TestRunAdminSocketRefusesFile(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "admin.sock")
	if err := os.WriteFile(socket, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	is := newSocketIssuer(t, socket)
	err := is.Run(context.Background())
	if !errors.Is(err, unixsock.ErrNotSocket) {
		t.Fatalf("Run = %v, want ErrNotSocket", err)
	}
	if b, err := os.ReadFile(socket); err != nil || string(b) != "precious\n" {
		t.Fatalf("the file was touched: %q, %v", b, err)
	}
}
