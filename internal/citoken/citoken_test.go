package citoken

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// runtime serves ACTIONS_ID_TOKEN_REQUEST_URL with handler.
func runtime(t *testing.T, handler http.HandlerFunc) {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/_apis/idtoken?api-version=2.0")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "secret-request-token")
}

func TestGitHub(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // the token, or the error
		wantErr bool
	}{
		{"token", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer secret-request-token" || r.URL.Query().Get("api-version") != "2.0" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"value":"eyJ.aud-` + r.URL.Query().Get("audience") + `.sig"}`))
		}, "eyJ.aud-https://aip.test.sig", false},
		{"refused", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusForbidden) }, "status 403", true},
		{"no value", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"count":1}`)) }, "the response has no token", true},
		{"not json", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`<html>`)) }, "the response has no token", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime(t, tt.handler)
			got, err := GitHub(context.Background(), nil, "https://aip.test")
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret-request-token") {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("GitHub = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestGitHubEnvironment(t *testing.T) {
	tests := []struct {
		name, url, token, audience, want string
	}{
		{"no permission", "", "", "a", "permissions: id-token: write"},
		{"no audience", "https://runtime.test/x", "t", "", "audience is required"},
		{"relative url", "/x", "t", "a", "not an absolute URL"},
		{"plain http", "http://runtime.test/x", "t", "a", "must be https"},
		{"plain http, not loopback ip", "http://10.0.0.1/x", "t", "a", "must be https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", tt.url)
			t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", tt.token)
			if _, err := GitHub(context.Background(), nil, tt.audience); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGitLab(t *testing.T) {
	t.Setenv(DefaultGitLabEnv, " eyJ.default.sig\n")
	t.Setenv("OTHER_TOKEN", "")
	if got, err := GitLab(""); err != nil || got != "eyJ.default.sig" {
		t.Fatalf("GitLab(\"\") = %q, %v", got, err)
	}
	_, err := GitLab("OTHER_TOKEN")
	var empty *EmptyVariableError
	if !errors.As(err, &empty) || empty.Name != "OTHER_TOKEN" || !strings.Contains(err.Error(), "$OTHER_TOKEN is empty: declare it under id_tokens:") {
		t.Fatalf("err = %v", err)
	}
}
