package aipcmd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/test/env"
)

// localUser is the embedded default's user in these tests.
const localUser = "carol"

// testIssuer is a real issuer (local key, file store, Dex as the admins'
// identity provider, the local user enabled) serving on a loopback port.
type testIssuer struct {
	URL            string
	adminTokenFile string
	adminToken     string
	dir            string
}

func startTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	dex := env.Dex(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := "http://" + ln.Addr().String()
	yaml := fmt.Sprintf(`listen: %q
issuer_url: %q
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
identity_providers: [{name: dex, issuer_url: %q, audience: %q}]
admins: {oidc_groups: [aip-admins]}
local_user: {enabled: true, user_id: %q}
`, ln.Addr().String(), base, filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "key.pem"),
		filepath.Join(dir, "store"), dex.Issuer, dex.ClientID, localUser)
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
	done := make(chan error, 1)
	go func() { done <- is.Server.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = is.Close()
	})
	ti := &testIssuer{URL: base, dir: dir, adminToken: dex.IDToken(t, env.Alice)}
	ti.adminTokenFile = writeFile(t, dir, "alice.token", ti.adminToken+"\n", 0o600)
	return ti
}

// run runs `aip ARGS...` against the issuer (--issuer is appended to
// commands that take it). It fails the test if stderr holds the admin token.
func (ti *testIssuer) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code = cli.Main(context.Background(), Root(), e, args)
	if ti.adminToken != "" && strings.Contains(errb.String(), ti.adminToken) {
		t.Fatalf("aip %s: the admin token leaked to stderr", strings.Join(args, " "))
	}
	return code, out.String(), errb.String()
}

// admin runs an admin command with the issuer URL and Alice's token.
func (ti *testIssuer) admin(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	n := 2
	if args[0] == "revoke" {
		n = 1
	}
	full := append(append(append([]string{}, args[:n]...), "--issuer", ti.URL, "--admin-token-file", ti.adminTokenFile), args[n:]...)
	return ti.run(t, full...)
}

func writeFile(t *testing.T, dir, name, content string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	return p
}
