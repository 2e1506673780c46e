//go:build linux

package aipcmd

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
)

// startSocketIssuer serves a real issuer (local key, file store, the local
// user, no identity provider) on a loopback port and on an admin socket
// whose allowed uids are uids (YAML; empty: the issuer's own). It returns
// the issuer and the socket path.
func startSocketIssuer(t *testing.T, uids string) (ti *testIssuer, socket string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	socket = filepath.Join(dir, "run", "admin.sock")
	base := "http://" + ln.Addr().String()
	yaml := fmt.Sprintf(`listen: %q
issuer_url: %q
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
local_user: {enabled: true, user_id: %q}
admins: {socket: {path: %q, allowed_uids: [%s]}}
`, ln.Addr().String(), base, filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "key.pem"),
		filepath.Join(dir, "store"), localUser, socket, uids)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		_ = ln.Close()
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	is, err := issuer.New(ctx, cfg, issuer.Options{})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("issuer.New: %v", err)
	}
	adminLn, err := is.ListenAdmin(ctx)
	if err != nil {
		cancel()
		_ = ln.Close()
		_ = is.Close()
		t.Fatalf("ListenAdmin: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- is.Serve(ctx, ln, adminLn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = is.Close()
	})
	return &testIssuer{URL: base, dir: dir}, socket
}

// Register, list and revoke through the admin socket, authorized by the
// caller's uid (the test's own, read by SO_PEERCRED), with no IdP at all.
func TestAdminSocketCLI(t *testing.T) {
	t.Setenv("AIP_ADMIN_SOCKET", "")
	ti, socket := startSocketIssuer(t, "")
	if fi, err := os.Lstat(socket); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("admin socket: %v, %v; want a 0600 socket", fi.Mode(), err)
	}
	keyFile := filepath.Join(t.TempDir(), "bot.key")
	if code, _, errOut := ti.run(t, "agent", "keygen", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}

	code, out, errOut := ti.run(t, "agent", "register", "--issuer", ti.URL, "--admin-socket", socket,
		"--id", "bot", "--key", keyFile+".pub", "--capability", "search", "--allow-user", localUser)
	if code != 0 || !strings.Contains(out, "registered agent bot (active)") {
		t.Fatalf("register over the socket: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = ti.run(t, "agent", "list", "--admin-socket", socket)
	if code != 0 || !strings.Contains(out, "bot") || !strings.Contains(out, "active") {
		t.Fatalf("list over the socket: exit %d %q %q", code, out, errOut)
	}
	exchange := []string{"token", "exchange", "--issuer", ti.URL, "--audience", mcpAudience, "--key", keyFile, "--local-user=" + localUser}
	if code, _, errOut := ti.run(t, exchange...); code != 0 {
		t.Fatalf("exchange before revocation: %s", errOut)
	}

	t.Run("flags", func(t *testing.T) {
		tokenFile := writeFile(t, t.TempDir(), "admin.token", "not-a-token\n", 0o600)
		// No admin credential at all: the TCP API refuses.
		if code, _, errOut := ti.run(t, "agent", "list", "--issuer", ti.URL); code != 1 || !strings.Contains(errOut, "401 invalid_token") {
			t.Errorf("list without a credential: exit %d %q", code, errOut)
		}
		// The socket and another credential: a usage error.
		if code, _, errOut := ti.run(t, "agent", "list", "--admin-socket", socket, "--admin-token-file", tokenFile); code != 2 ||
			!strings.Contains(errOut, "--admin-socket authenticates you by your uid") {
			t.Errorf("socket and token: exit %d %q", code, errOut)
		}
		// AIP_ADMIN_SOCKET does not override an explicit credential.
		t.Setenv("AIP_ADMIN_SOCKET", socket)
		if code, _, errOut := ti.run(t, "agent", "list", "--issuer", ti.URL, "--admin-token-file", tokenFile); code != 1 ||
			!strings.Contains(errOut, "401 invalid_token") {
			t.Errorf("env socket with a token file: exit %d %q", code, errOut)
		}
	})

	// AIP_ADMIN_SOCKET stands for --admin-socket.
	t.Setenv("AIP_ADMIN_SOCKET", socket)
	code, out, errOut = ti.run(t, "revoke", "--issuer", ti.URL, "--agent", "bot", "--reason", "key leaked")
	if code != 0 || out != "revoked agent bot: key leaked\n" {
		t.Fatalf("revoke over the socket: exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = ti.run(t, exchange...)
	if code != 1 || !strings.Contains(errOut, "invalid_grant") {
		t.Fatalf("exchange after revocation: exit %d %q", code, errOut)
	}
	audit, err := os.ReadFile(filepath.Join(ti.dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("agent: key leaked (by uid:%d)", os.Getuid()); !strings.Contains(string(audit), want) {
		t.Fatalf("the issuer's audit log does not hold %q:\n%s", want, audit)
	}
}

// A uid that is not allowed is refused over the socket, by the kernel's
// word on who is calling.
func TestAdminSocketCLIRefusesOtherUID(t *testing.T) {
	t.Setenv("AIP_ADMIN_SOCKET", "")
	ti, socket := startSocketIssuer(t, fmt.Sprint(os.Getuid()+1))
	code, out, errOut := ti.run(t, "agent", "list", "--admin-socket", socket)
	if code != 1 || out != "" || !strings.Contains(errOut, "403 access_denied): not an administrator") {
		t.Fatalf("list by another uid: exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = ti.run(t, "revoke", "--admin-socket", socket, "--user", localUser, "--reason", "r")
	if code != 1 || !strings.Contains(errOut, "403") {
		t.Fatalf("revoke by another uid: exit %d %q", code, errOut)
	}
}
