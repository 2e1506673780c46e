package issuerclient

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name, url, want, wantErr string
	}{
		{"loopback http", "http://127.0.0.1:8443", "http://127.0.0.1:8443", ""},
		{"trailing slash", "https://issuer.example.org/", "https://issuer.example.org", ""},
		{"path kept", "https://example.org/aip", "https://example.org/aip", ""},
		{"no scheme", "issuer.example.org", "", "want http(s)://host"},
		{"other scheme", "ftp://issuer", "", "want http(s)://host"},
		{"query", "https://issuer/?a=b", "", "no query"},
		{"user info", "https://u:p@issuer", "", "no query, fragment or user info"},
		{"empty", "", "", "want http(s)://host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{BaseURL: tt.url})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), ":p@") {
					t.Fatalf("error repeats a password: %v", err)
				}
				return
			}
			if err != nil || c.URL() != tt.want {
				t.Fatalf("URL %v, %v; want %s", c, err, tt.want)
			}
		})
	}
}

func TestErrorOf(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"oauth body", 400, `{"error":"invalid_grant","error_description":"authentication failed"}`,
			"issuer refused (400 invalid_grant): authentication failed"},
		{"code only", 401, `{"error":"invalid_token"}`, "issuer refused (401 invalid_token)"},
		{"not json", 502, `<html>bad gateway</html>`, "issuer refused (502 Bad Gateway)"},
		{"empty", 404, ``, "issuer refused (404 Not Found)"},
		{"control characters dropped", 400, `{"error":"x\u001b[31m","error_description":"y"}`, "issuer refused (400 Bad Request)"},
		{"overlong description dropped", 400, `{"error":"invalid_request","error_description":"` + strings.Repeat("a", 600) + `"}`,
			"issuer refused (400 invalid_request)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorOf(tt.status, []byte(tt.body)).Error(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
