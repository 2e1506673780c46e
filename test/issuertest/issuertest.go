// Package issuertest runs a real aip issuer in-process on loopback for
// tests: local key, file store and the embedded local user, exactly as
// `aip-issuer serve` runs on a single machine. It is a test helper; no
// product code imports it.
package issuertest

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/registry"
)

// Options adjust the issuer Start runs.
type Options struct {
	LocalUser string           // the local user's id (required)
	Now       func() time.Time // the issuer's clock; nil: time.Now
	Extra     string           // more top-level YAML config, e.g. a spiffe section
	// ExtraFor, when set, returns more top-level YAML that needs the
	// issuer's URL (e.g. a ci_trust audience); it follows Extra.
	ExtraFor func(issuerURL string) string
	Listen   string // host:port to listen on; empty: a free loopback port
	// Bindings are SSO bindings in the store when the issuer starts, as
	// the bind flow stores them (bindings.go).
	Bindings []binding.Binding
}

// Start runs the issuer until t ends and returns its base URL.
func Start(t testing.TB, o Options) (string, *issuer.Issuer) {
	t.Helper()
	addr := o.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := seedBindings(filepath.Join(dir, "store"), o.Now, o.Bindings); err != nil {
		_ = ln.Close()
		t.Fatalf("bindings: %v", err)
	}
	base := "http://" + ln.Addr().String()
	extra := o.Extra
	if o.ExtraFor != nil {
		extra += "\n" + o.ExtraFor(base)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `listen: %q
issuer_url: %q
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
local_user: {enabled: true, user_id: %s}
%s`, ln.Addr().String(), base, filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "key.pem"),
		filepath.Join(dir, "store"), o.LocalUser, extra))
	if err != nil {
		_ = ln.Close()
		t.Fatalf("issuer config: %v", err)
	}
	return base, Run(t, cfg, issuer.Options{Now: o.Now}, ln, nil)
}

// Run builds the issuer for cfg with opts and serves its API on ln, and
// its federation bundle endpoint on bundle unless that is nil, until t
// ends. It does not wait for anything: the listeners already accept.
func Run(t testing.TB, cfg *config.Config, opts issuer.Options, ln, bundle net.Listener) *issuer.Issuer {
	t.Helper()
	listeners := []net.Listener{ln}
	if bundle != nil {
		listeners = append(listeners, bundle)
	}
	ctx, cancel := context.WithCancel(context.Background())
	is, err := issuer.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		for _, l := range listeners {
			_ = l.Close()
		}
		t.Fatalf("issuer.New: %v", err)
	}
	done := make(chan error, len(listeners))
	go func() { done <- is.Server.Serve(ctx, ln) }()
	if bundle != nil {
		go func() { done <- is.ServeBundleEndpoint(ctx, bundle) }()
	}
	t.Cleanup(func() {
		cancel()
		for range listeners {
			if err := <-done; err != nil {
				t.Errorf("issuer serve: %v", err)
			}
		}
		_ = is.Close()
	})
	return is
}

// RegisterNativeAgent registers agent id with a fresh Ed25519 key, the
// given tools as capabilities, usable by user, and returns the key.
func RegisterNativeAgent(t testing.TB, is *issuer.Issuer, user, id string, tools ...string) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: id, PublicKey: &jose.JSONWebKey{Key: k.Public()},
		Capabilities: tools, AllowedUsers: []string{user}}); err != nil {
		t.Fatal(err)
	}
	return k
}
