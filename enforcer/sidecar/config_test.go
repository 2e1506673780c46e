package sidecar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/sidecar"
)

// baseConfig is a valid sidecar configuration; extra is appended to it.
func baseConfig(issuer, extra string) []byte {
	return []byte(`listen: 127.0.0.1:8443
upstream: {url: "http://127.0.0.1:3000"}
policy: {path: /etc/aip/policy.yaml}
audit: {path: /var/log/aip/audit.jsonl}
audience: "https://mcp.example.com"
issuers: [` + issuer + `]
tls: {mode: plain}
` + extra)
}

func TestMaxStale(t *testing.T) {
	const redis = "redis: {addrs: [\"127.0.0.1:6379\"]}\n"
	tests := []struct {
		name  string
		extra string
		want  time.Duration
	}{
		{"polling default is 3 x poll_interval", "revocation: {poll_interval: 2s}\n", 6 * time.Second},
		{"redis default is 0", redis + "revocation: {poll_interval: 2s}\n", 0},
		{"redis, explicit 3 x poll_interval is kept", redis + "revocation: {poll_interval: 2s, max_stale: 6s}\n", 6 * time.Second},
		{"redis, explicit other value", redis + "revocation: {max_stale: 1s}\n", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := sidecar.Parse(baseConfig(`{issuer: "https://issuer.example.com"}`, tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Revocation.MaxStale != tt.want {
				t.Errorf("max_stale = %s, want %s", cfg.Revocation.MaxStale, tt.want)
			}
		})
	}
}

func TestIssuerURLsNeedHTTPS(t *testing.T) {
	tests := []struct {
		name   string
		issuer string
		want   string // a problem the error must name; "" means valid
	}{
		{"https", `{issuer: "https://issuer.example.com"}`, ""},
		{"http on 127.0.0.1", `{issuer: "http://127.0.0.1:8080"}`, ""},
		{"http on localhost", `{issuer: "http://localhost:8080"}`, ""},
		{"http on ::1", `{issuer: "http://[::1]:8080"}`, ""},
		{"http remote issuer", `{issuer: "http://issuer.example.com"}`, "issuers[0].issuer: must be https"},
		{"http remote jwks_url", `{issuer: "https://issuer.example.com", jwks_url: "http://keys.example.com/jwks.json"}`,
			"issuers[0].jwks_url: must be https"},
		{"loopback issuer, remote http jwks_url", `{issuer: "http://127.0.0.1:8080", jwks_url: "http://10.0.0.1/jwks.json"}`,
			"issuers[0].jwks_url: must be https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sidecar.Parse(baseConfig(tt.issuer, ""))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}
