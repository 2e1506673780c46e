//go:build linux

package issuerclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// With an admin socket, the admin routes go over it (and carry no
// Authorization header); the others still go to the base URL.
func TestAdminSocketRouting(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var sawAuth atomic.Bool
	admin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			sawAuth.Store(true)
		}
		if r.URL.Path != "/v1/agents" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"agents":[{"agent_id":"over-the-socket"}]}`))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = admin.Serve(ln) }()
	t.Cleanup(func() { _ = admin.Close() })
	tcp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(tcp.Close)

	c, err := New(Config{BaseURL: tcp.URL, AdminSocket: socket})
	if err != nil {
		t.Fatal(err)
	}
	agents, err := c.ListAgents(context.Background())
	if err != nil || len(agents) != 1 || agents[0].ID != "over-the-socket" {
		t.Fatalf("ListAgents = %+v, %v; want the socket's answer", agents, err)
	}
	if _, err := c.JWKS(context.Background()); err != nil {
		t.Fatalf("JWKS over TCP: %v", err)
	}
	if sawAuth.Load() {
		t.Error("an Authorization header was sent over the socket")
	}

	if _, err := New(Config{BaseURL: tcp.URL, AdminSocket: socket, AdminToken: "t"}); err == nil || !strings.Contains(err.Error(), "exclusive") {
		t.Fatalf("New with a token and a socket: %v, want refused", err)
	}
	gone, err := New(Config{BaseURL: tcp.URL, AdminSocket: filepath.Join(t.TempDir(), "none.sock")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.ListAgents(context.Background()); err == nil || !strings.Contains(err.Error(), "GET /v1/agents: dial unix") {
		t.Fatalf("ListAgents to a missing socket: %v", err)
	}
}
