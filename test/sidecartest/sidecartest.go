// Package sidecartest runs `aip-enforcer serve` in-process on loopback for
// tests and benchmarks, exactly as the binary runs it: the configuration
// is parsed strictly, the server built with sidecar.New and served until
// the test ends. It is a test helper; no product code imports it.
package sidecartest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/sidecar"
)

// Start listens on a free loopback port, runs a sidecar configured by doc
// (the YAML configuration without its listen key, which Start adds) until
// tb ends, and returns its base URL (http://127.0.0.1:PORT) once /readyz
// answers 200.
func Start(tb testing.TB, doc string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := sidecar.Parse(fmt.Appendf(nil, "listen: %q\n%s", ln.Addr().String(), doc))
	if err != nil {
		_ = ln.Close()
		tb.Fatal(err)
	}
	Run(tb, ln, cfg, sidecar.Options{})
	base := "http://" + ln.Addr().String()
	WaitReady(tb, base)
	return base
}

// Run builds the sidecar for cfg with opts and serves it on ln until tb
// ends; it does not wait for readiness (an mTLS listener needs the
// caller's client for that).
func Run(tb testing.TB, ln net.Listener, cfg *sidecar.Config, opts sidecar.Options) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := sidecar.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		_ = ln.Close()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("sidecar serve: %v", err)
		}
		_ = srv.Close()
	})
}

// WaitReady waits up to 20 s for base's /readyz to answer 200.
func WaitReady(tb testing.TB, base string) {
	tb.Helper()
	WaitReadyWith(tb, http.DefaultClient, base)
}

// WaitReadyWith is WaitReady over the client c: the one an mTLS listener
// accepts.
func WaitReadyWith(tb testing.TB, c *http.Client, base string) {
	tb.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never became ready (last error: %v)", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
