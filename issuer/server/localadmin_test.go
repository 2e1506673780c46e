//go:build linux

package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/internal/unixsock"
	"github.com/aip-project/aip/issuer/server"
)

// peerIs stands in for SO_PEERCRED: every connection comes from uid.
func peerIs(uid uint32) func(net.Conn) (uint32, error) {
	return func(net.Conn) (uint32, error) { return uid, nil }
}

func TestAdminSocket(t *testing.T) {
	own := uint32(os.Getuid())
	h0 := newHarness(t, harnessOpts{})
	adminToken := h0.idp.idToken(t, map[string]any{"sub": "root", "groups": []string{"aip-admins"}})
	tests := []struct {
		name       string
		local      server.LocalAdmins
		method     string
		path       string
		header     http.Header
		wantStatus int
		wantError  string
	}{
		{"allowed uid", server.LocalAdmins{UIDs: []uint32{4242}, PeerUID: peerIs(4242)},
			http.MethodGet, "/v1/agents", nil, http.StatusOK, ""},
		{"allowed uid among several", server.LocalAdmins{UIDs: []uint32{1, 4242}, PeerUID: peerIs(4242)},
			http.MethodGet, "/v1/agents/bot", nil, http.StatusOK, ""},
		{"another uid", server.LocalAdmins{UIDs: []uint32{4242}, PeerUID: peerIs(4243)},
			http.MethodGet, "/v1/agents", nil, http.StatusForbidden, "access_denied"},
		{"no peer credentials", server.LocalAdmins{UIDs: []uint32{4242},
			PeerUID: func(net.Conn) (uint32, error) { return 4242, errors.New("getsockopt failed") }},
			http.MethodGet, "/v1/agents", nil, http.StatusUnauthorized, "invalid_token"},
		{"an admin token does not help another uid", server.LocalAdmins{UIDs: []uint32{4242}, PeerUID: peerIs(4243)},
			http.MethodGet, "/v1/agents", http.Header{"Authorization": {"Bearer " + adminToken}}, http.StatusForbidden, "access_denied"},
		{"default: the issuer's own uid, by SO_PEERCRED", server.LocalAdmins{},
			http.MethodGet, "/v1/agents", nil, http.StatusOK, ""},
		{"default refuses another uid", server.LocalAdmins{PeerUID: peerIs(own + 1)},
			http.MethodGet, "/v1/agents", nil, http.StatusForbidden, "access_denied"},
		{"token endpoint not served", server.LocalAdmins{UIDs: []uint32{4242}, PeerUID: peerIs(4242)},
			http.MethodPost, "/v1/token", nil, http.StatusNotFound, "not_found"},
		{"metrics not served", server.LocalAdmins{UIDs: []uint32{4242}, PeerUID: peerIs(4242)},
			http.MethodGet, "/metrics", nil, http.StatusNotFound, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOpts{local: tt.local})
			c := serveAdminSocket(t, h)
			status, body := call(t, c, tt.method, tt.path, "", tt.header)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantError) {
				t.Fatalf("%s %s: %d %s; want %d %q", tt.method, tt.path, status, body, tt.wantStatus, tt.wantError)
			}
		})
	}
}

// A revocation over the socket is stored and audited as by uid:<n>; a
// refused uid revokes nothing.
func TestAdminSocketRevocation(t *testing.T) {
	var peer atomic.Uint32
	peer.Store(4242)
	h := newHarness(t, harnessOpts{local: server.LocalAdmins{UIDs: []uint32{4242},
		PeerUID: func(net.Conn) (uint32, error) { return peer.Load(), nil }}})
	c := serveAdminSocket(t, h)
	hdr := http.Header{"Content-Type": {"application/json"}}

	status, body := call(t, c, http.MethodPost, "/v1/revocations", `{"kind":"user","subject":"mallory","reason":"left"}`, hdr)
	if status != http.StatusCreated {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if r, err := h.revs.Check(context.Background(), revocation.Subjects{UserID: "mallory"}); err != nil || r == nil {
		t.Fatalf("Check = %v, %v; want the revocation", r, err)
	}
	if got := h.auditBuf.String(); !strings.Contains(got, `"reason":"user: left (by uid:4242)"`) {
		t.Fatalf("audit log does not name the admin uid:\n%s", got)
	}

	peer.Store(4243)
	c.CloseIdleConnections() // the uid is read per connection
	status, body = call(t, c, http.MethodPost, "/v1/revocations", `{"kind":"user","subject":"trent","reason":"r"}`, hdr)
	if status != http.StatusForbidden {
		t.Fatalf("revoke by another uid: %d %s", status, body)
	}
	if r, err := h.revs.Check(context.Background(), revocation.Subjects{UserID: "trent"}); err != nil || r != nil {
		t.Fatalf("Check = %v, %v; want nothing revoked", r, err)
	}
}

// serveAdminSocket serves h's admin API on a Unix socket and returns a
// client whose connections go to it.
func serveAdminSocket(t *testing.T, h *harness) *http.Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admin.sock")
	ln, err := unixsock.Listen(context.Background(), path, -1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.ServeAdmin(ctx, ln) }()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeAdmin: %v", err)
		}
	})
	return c
}

func call(t *testing.T, c *http.Client, method, path, body string, hdr http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, "http://admin.sock"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
