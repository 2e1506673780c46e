package env

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Dedicated components: a test that stops a component (fault tests) gets
// its own instance, so the shared one keeps serving every other test. Each
// is stopped when t ends; Stop and Start work as on the shared ones.

// NewRedis starts a Redis server for t alone.
func NewRedis(t testing.TB) *RedisServer {
	t.Helper()
	skipShort(t, "redis-server")
	r, err := startRedis()
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(func() { r.proc.stop() })
	printLogsOnFailure(t, r.proc)
	return r
}

// NewVault starts a Vault dev server for t alone, with transit and
// TransitKey. Vault dev mode keeps nothing: after Stop and Start the
// transit key is a new key under the same name.
func NewVault(t testing.TB) *VaultServer {
	t.Helper()
	skipShort(t, "vault")
	v, err := startVault()
	if err != nil {
		t.Fatalf("vault: %v", err)
	}
	t.Cleanup(func() { v.proc.stop() })
	printLogsOnFailure(t, v.proc)
	return v
}

// NewDex starts a Dex server for t alone (same users and client as Dex).
func NewDex(t testing.TB) *DexServer {
	t.Helper()
	skipShort(t, "dex")
	d, err := startDex()
	if err != nil {
		t.Fatalf("dex: %v", err)
	}
	t.Cleanup(func() { d.proc.stop() })
	printLogsOnFailure(t, d.proc)
	return d
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (r *RedisServer) Kill(t testing.TB) {
	t.Helper()
	r.proc.kill()
}

// kill sends SIGKILL to the process group and waits for the child.
func (p *process) kill() {
	if p == nil || p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Login logs u in with the password grant and returns the raw ID token,
// or the error (IDToken fails the test instead): for outage tests.
func (d *DexServer) Login(ctx context.Context, u DexUser) (string, error) {
	ctx = oidc.ClientContext(ctx, &http.Client{Timeout: 5 * time.Second})
	cfg, _, err := d.OAuth2Config(ctx)
	if err != nil {
		return "", err
	}
	tok, err := cfg.PasswordCredentialsToken(ctx, u.Username, u.Password)
	if err != nil {
		return "", fmt.Errorf("dex password grant for %s: %w", u.Username, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", fmt.Errorf("dex returned no id_token for %s", u.Username)
	}
	return raw, nil
}

// RedisServerBinary returns the redis-server binary, for programs that
// start their own (the load generator).
func RedisServerBinary(t testing.TB) string {
	t.Helper()
	skipShort(t, "redis-server")
	bin, err := Binary("REDIS_SERVER", "redis-server")
	if err != nil {
		t.Fatalf("%v (Debian: apt-get install -y redis-server)", err)
	}
	return bin
}
