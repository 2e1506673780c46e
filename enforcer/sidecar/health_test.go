package sidecar_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/sidecar"
)

// The health listener serves probes and metrics in plain HTTP, and
// nothing else: no MCP endpoint, no validation, no approvals.
func TestHealthListener(t *testing.T) {
	fi := newFakeIssuer(t)
	up := newUpstream(t, false)
	addr := freeAddr(t)
	secret := filepath.Join(t.TempDir(), "approvers")
	if err := os.WriteFile(secret, []byte("a-long-enough-approver-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	main := sidecarUnder(t, fi, up.URL, fmt.Sprintf("health_listen: %s\napprovals: {approvers: {bearer_token_file: %q}}\n", addr, secret))
	if resp, err := http.Get(main + "/v1/approvals"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("control: approvals on the main listener: %v %v", resp, err) // served there, to approvers only
	} else {
		_ = resp.Body.Close()
	}
	base := "http://" + addr
	tests := []struct {
		method, path string
		status       int
		contains     string
	}{
		{http.MethodGet, "/healthz", http.StatusOK, "ok"},
		{http.MethodGet, "/readyz", http.StatusOK, "ready"},
		{http.MethodGet, "/metrics", http.StatusOK, "aip_revocations_total"},
		{http.MethodPost, "/mcp", http.StatusNotFound, ""},
		{http.MethodGet, "/mcp", http.StatusNotFound, ""},
		{http.MethodPost, "/v1/validate", http.StatusNotFound, ""},
		{http.MethodGet, "/v1/approvals", http.StatusNotFound, ""},
		{http.MethodGet, "/.well-known/oauth-protected-resource", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(callEcho))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("status %d %q, want %d containing %q", resp.StatusCode, body, tt.status, tt.contains)
			}
		})
	}
}

// freeAddr is a loopback host:port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestOptionalKeys(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  string // a problem the error must name; "" means valid
	}{
		{"health_listen on all interfaces", "health_listen: 0.0.0.0:9090\n", ""},
		{"health_listen without a port", "health_listen: 0.0.0.0\n", "health_listen: must be host:port"},
		{"health_listen is listen", "health_listen: 127.0.0.1:8443\n", "health_listen: must differ from listen"},
		{"max_delegation_age", "max_delegation_age: 12h\n", ""},
		{"max_delegation_age too short", "max_delegation_age: 1s\n", "max_delegation_age: must be between"},
		{"max_delegation_age not a duration", "max_delegation_age: forever\n", "max_delegation_age: not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sidecar.Parse(baseConfig(`{issuer: "https://issuer.example.com"}`, tt.extra))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}
