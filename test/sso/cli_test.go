package sso

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/commands/aipcmd"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/test/env"
)

// syncBuffer is an io.Writer a test reads while a command writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// aip runs the CLI to completion.
func aip(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), aipcmd.Root(), cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// aipAsync starts the CLI and returns its stderr and its exit code.
func aipAsync(args ...string) (*syncBuffer, <-chan int) {
	errb := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(context.Background(), aipcmd.Root(), cli.Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: errb}, args)
	}()
	return errb, done
}

// waitFor polls stderr until re matches and returns its first group.
func waitFor(t *testing.T, errb *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	for range 200 {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			return m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %v in the command's output: %q", re, errb.String())
	return ""
}

func waitExit(t *testing.T, done <-chan int, errb *syncBuffer) {
	t.Helper()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("aip login exit %d: %s", code, errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("aip login did not finish: %s", errb.String())
	}
}

// cliStack is a stack with an agent registered through the CLI, its key
// in a file, and an admin token file.
func cliStack(t *testing.T) (*stack, string, []string) {
	t.Helper()
	s := newStack(t)
	dir := t.TempDir()
	adminFile, keyFile := filepath.Join(dir, "admin.jwt"), filepath.Join(dir, "bot.key")
	if err := os.WriteFile(adminFile, []byte(s.dex.IDToken(t, env.Alice)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, e := aip(t, "agent", "keygen", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %s", e)
	}
	admin := []string{"--issuer", s.base, "--admin-token-file", adminFile}
	if code, _, e := aip(t, append([]string{"agent", "register", "--id", "cli-bot", "--key", keyFile,
		"--capability", "read_file,search", "--allow-group", "aip-admins"}, admin...)...); code != 0 {
		t.Fatalf("register: %s", e)
	}
	return s, keyFile, admin
}

// `aip login` with the loopback redirect: the browser signs in at Dex and
// lands on the CLI's listener; the stored token then works for
// `aip token exchange --login`.
func TestLoginLoopback(t *testing.T) {
	s, keyFile, _ := cliStack(t)
	tokenFile := filepath.Join(t.TempDir(), "aip", "login.json")
	errb, done := aipAsync("login", "--idp", s.dex.Issuer, "--client-id", s.dex.LoginClientID,
		"--scope", "audience:server:client_id:"+s.dex.ClientID, "--token-file", tokenFile)
	u := waitFor(t, errb, regexp.MustCompile(`(?m)^  (http://\S+)$`))
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(u), dexLogin(env.Alice), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatalf("browser login: %v", err)
	}
	if msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p"))); !strings.HasPrefix(msg, "Signed in.") {
		t.Errorf("loopback page says %q", msg)
	}
	waitExit(t, done, errb)
	checkTokenFile(t, tokenFile)

	code, out, e := aip(t, "token", "exchange", "--issuer", s.base, "--audience", "mcp-fs", "--key", keyFile,
		"--login", "--login-token-file", tokenFile, "--output", "json")
	if code != 0 || !strings.Contains(out, `"scope": "read_file search"`) {
		t.Fatalf("exchange --login: exit %d, %s %s", code, out, e)
	}

	// Alice manages her own bindings with her login, no admin right.
	id := bindInBrowser(t, s, "cli-bot")
	mine := []string{"--issuer", s.base, "--mine", "--login-token-file", tokenFile}
	if code, out, e := aip(t, append([]string{"bindings", "list"}, mine...)...); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("bindings list --mine: exit %d, %q %s", code, out, e)
	}
	// Bob's token neither sees nor ends Alice's binding.
	bob := s.dex.IDToken(t, env.Bob)
	if bs, err := s.client.OwnBindings(context.Background(), bob); err != nil || len(bs) != 0 {
		t.Errorf("bob's own bindings = %+v, %v; want none", bs, err)
	}
	if _, err := s.client.RevokeOwnBinding(context.Background(), bob, id); !isOAuth(err, "not_found") {
		t.Errorf("bob revoking alice's binding = %v, want not_found", err)
	}
	if _, err := s.client.OwnBindings(context.Background(), "not-a-token"); !isOAuth(err, "invalid_token") {
		t.Errorf("own bindings with a bad token = %v, want invalid_token", err)
	}
	if code, out, e := aip(t, append(append([]string{"bindings", "revoke"}, mine...), id)...); code != 0 || !strings.Contains(out, "revoked binding "+id) {
		t.Fatalf("bindings revoke --mine: exit %d, %q %s", code, out, e)
	}
	if bs, _ := s.client.ListBindings(context.Background(), binding.Filter{Agent: "cli-bot"}); len(bs) != 0 {
		t.Errorf("bindings after revoke --mine: %+v", bs)
	}
}

// `aip login --device`: the browser enters the code at Dex, signs in, and
// the CLI's polling gets the token.
func TestLoginDevice(t *testing.T) {
	s, _, _ := cliStack(t)
	tokenFile := filepath.Join(t.TempDir(), "login.json")
	errb, done := aipAsync("login", "--device", "--idp", s.dex.Issuer, "--client-id", s.dex.LoginClientID,
		"--token-file", tokenFile)
	uri := waitFor(t, errb, regexp.MustCompile(`(?m)^  (http://\S+)$`))
	code := waitFor(t, errb, regexp.MustCompile(`enter the code (\S+)`))
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(uri),
		chromedp.WaitVisible(chromedp.ID("user_code")),
		chromedp.SendKeys(chromedp.ID("user_code"), code),
		chromedp.Click(chromedp.ID("submit-login")),
		// The click navigates to the login page: wait until the code's page
		// is gone, or the login steps may query nodes of the page being
		// replaced ("Could not find node with given id").
		chromedp.WaitNotPresent(chromedp.ID("user_code")),
		dexLogin(env.Alice),
	)
	if err != nil {
		t.Fatalf("device verification in the browser: %v", err)
	}
	waitExit(t, done, errb)
	checkTokenFile(t, tokenFile)
}

// `aip bindings list|revoke` and `aip token exchange --binding`.
func TestBindingsCLI(t *testing.T) {
	s, keyFile, admin := cliStack(t)
	id := bindInBrowser(t, s, "cli-bot")
	exchange := []string{"token", "exchange", "--issuer", s.base, "--audience", "mcp-fs", "--key", keyFile}
	if code, out, e := aip(t, append(exchange, "--binding")...); code != 0 || strings.Count(out, ".") != 2 {
		t.Fatalf("exchange --binding: exit %d, %q %s", code, out, e)
	}
	if code, out, e := aip(t, append(exchange, "--binding="+env.Alice.Username, "--output", "json")...); code != 0 || !strings.Contains(out, "read_file search") {
		t.Fatalf("exchange --binding=alice: exit %d, %q %s", code, out, e)
	}
	code, out, e := aip(t, append([]string{"bindings", "list", "--agent", "cli-bot"}, admin...)...)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, env.Alice.Username) {
		t.Fatalf("bindings list: exit %d, %q %s", code, out, e)
	}
	if code, out, e := aip(t, append(append([]string{"bindings", "revoke"}, admin...), id)...); code != 0 || !strings.Contains(out, "revoked binding "+id) {
		t.Fatalf("bindings revoke: exit %d, %q %s", code, out, e)
	}
	if code, _, e := aip(t, append(exchange, "--binding")...); code != 1 || !strings.Contains(e, "invalid_grant") {
		t.Errorf("exchange --binding after revoke: exit %d, %s", code, e)
	}
	if code, _, e := aip(t, append([]string{"bindings", "revoke"}, admin...)...); code != 2 || !strings.Contains(e, "give one binding ID or --user") {
		t.Errorf("bindings revoke without id: exit %d, %s", code, e)
	}
}

func checkTokenFile(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("token file: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	var s struct {
		IDToken string    `json:"id_token"`
		Expiry  time.Time `json:"expiry"`
	}
	if err := json.Unmarshal(data, &s); err != nil || strings.Count(s.IDToken, ".") != 2 || !s.Expiry.After(time.Now()) {
		t.Errorf("token file = %s (%v)", data, err)
	}
}
