package enforcer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/policy"
)

func TestReloaderWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	write := func(mode string) {
		t.Helper()
		y := strings.NewReplacer("MODE", mode, "ON_MATCH", "block").Replace(testPolicy)
		tmp := filepath.Join(dir, ".policy.yaml.tmp")
		if err := os.WriteFile(tmp, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil { // as editors save
			t.Fatal(err)
		}
	}
	write("enforce")
	opts := policy.Options{HomeDir: "/home/agent", WorkDir: "/work"}
	p, err := policy.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, p, nil)
	r := &Reloader{Path: path, Options: opts, Engine: e.Engine}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- r.Watch(ctx, hup) }()
	time.Sleep(50 * time.Millisecond) // let the watch start

	waitMode := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for e.Policy().Mode() != want {
			if time.Now().After(deadline) {
				t.Fatalf("policy mode %s; want %s", e.Policy().Mode(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write("monitor")
	waitMode("monitor")

	before := e.Policy().Hash()
	if err := os.WriteFile(path, []byte("apiVersion: aip.io/v1alpha1\nkind: AgentPolicy\nspec: {nope: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hup <- os.Interrupt // any value triggers a reload, as SIGHUP does
	time.Sleep(300 * time.Millisecond)
	if e.Policy().Hash() != before {
		t.Fatal("an invalid policy replaced the one in force")
	}
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "spec.nope") {
		t.Fatalf("reload error %v; want one naming spec.nope", err)
	}
	write("enforce")
	waitMode("enforce")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// With a trusted key in the options, a reload of a policy that is not
// signed by it keeps the signed one in force and says why.
func TestReloaderTrustedKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	enforcing := strings.NewReplacer("MODE", "enforce", "ON_MATCH", "block").Replace(testPolicy)
	signed, err := policy.SignYAML([]byte(enforcing), priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := policy.Options{HomeDir: "/home/agent", WorkDir: "/work", TrustedKey: pub}
	p, err := policy.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, p, nil)
	var logs bytes.Buffer
	r := &Reloader{Path: path, Options: opts, Engine: e.Engine, Logger: slog.New(slog.NewTextHandler(&logs, nil))}

	unsigned := strings.NewReplacer("MODE", "monitor", "ON_MATCH", "block").Replace(testPolicy)
	if err := os.WriteFile(path, []byte(unsigned), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); !errors.Is(err, policy.ErrSignatureInvalid) {
		t.Fatalf("reload of an unsigned policy: %v; want ErrSignatureInvalid", err)
	}
	if e.Policy().Hash() != p.Hash() || e.Policy().Mode() != policy.ModeEnforce {
		t.Fatal("an unsigned policy replaced the signed one")
	}
	if !strings.Contains(logs.String(), "previous policy stays in force") || !strings.Contains(logs.String(), "signature") {
		t.Errorf("the refusal is not logged with its reason: %s", logs.String())
	}

	resigned, err := policy.SignYAML([]byte(unsigned), priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, resigned, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if e.Policy().Mode() != policy.ModeMonitor {
		t.Fatal("a correctly signed policy was not put in force")
	}
}
