package agent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/dpop"
)

// Each request carries the AAT and a valid proof of its own over its
// method, URL, token and body; the caller's request is left as it was.
func TestEveryRequestSigned(t *testing.T) {
	s := newSetup(t, nil)
	c := s.transport(t, nil).Client()
	bodies := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file"}}`, // the same body again
	}
	for _, b := range bodies {
		if code, got := do(t, c, http.MethodPost, s.server.URL, b); code != http.StatusOK || got != b {
			t.Fatalf("POST: %d %q, want the body echoed", code, got)
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodDelete, http.MethodPost} {
		if code, _ := do(t, c, m, s.server.URL, ""); code != http.StatusOK {
			t.Fatalf("%s without body: %d", m, code)
		}
	}

	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL+"?x=1", strings.NewReader(bodies[0]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	before := req.Header.Clone()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if !equalHeaders(req.Header, before) || req.URL.RawQuery != "x=1" {
		t.Fatalf("caller's request changed: %v", req.Header)
	}

	aatJTIs, failures, proofs := s.server.seen()
	if len(failures) > 0 {
		t.Fatalf("server refused: %v", failures)
	}
	if proofs != 7 || len(aatJTIs) != 7 {
		t.Fatalf("%d distinct proofs for %d requests, want 7", proofs, len(aatJTIs))
	}
	if len(slices.Compact(slices.Clone(aatJTIs))) != 1 || s.fetches.n.Load() != 1 {
		t.Fatalf("AATs %v from %d token requests, want one", aatJTIs, s.fetches.n.Load())
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// The token is renewed before it expires: at RefreshBefore (default: 1 min
// or a fifth of the lifetime) ahead of expiry, never after.
func TestRefreshBeforeExpiry(t *testing.T) {
	// The issuer's tokens live 5 minutes.
	tests := []struct {
		name          string
		refreshBefore time.Duration
		renewAt       time.Duration // after issuance
	}{
		{"default", 0, 4 * time.Minute},
		{"two minutes", 2 * time.Minute, 3 * time.Minute},
		{"longer than the lifetime", time.Hour, 150 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil)
			c := s.transport(t, func(c *agent.Config) { c.RefreshBefore = tt.refreshBefore }).Client()
			t0 := s.clock.Now()
			call := func() {
				t.Helper()
				if code, body := do(t, c, http.MethodPost, s.server.URL, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); code != http.StatusOK {
					t.Fatalf("at +%s: %d %s", s.clock.Now().Sub(t0), code, body)
				}
			}
			call()
			s.clock.Advance(tt.renewAt - time.Second)
			call()
			if n := s.fetches.n.Load(); n != 1 {
				t.Fatalf("%d token requests before the renewal time, want 1", n)
			}
			s.clock.Advance(time.Second)
			call()
			if n := s.fetches.n.Load(); n != 2 {
				t.Fatalf("%d token requests at the renewal time, want 2", n)
			}
			// The second token lasts as long from its issuance.
			s.clock.Advance(tt.renewAt - time.Second)
			call()
			jtis, failures, _ := s.server.seen()
			if len(failures) > 0 || s.fetches.n.Load() != 2 {
				t.Fatalf("failures %v, %d token requests", failures, s.fetches.n.Load())
			}
			if jtis[0] != jtis[1] || jtis[1] == jtis[2] || jtis[2] != jtis[3] {
				t.Fatalf("AAT per request %v: want a, a, b, b", jtis)
			}
		})
	}
}

// Concurrent requests needing a token share one token request.
func TestConcurrentRequestsShareOneFetch(t *testing.T) {
	s := newSetup(t, nil)
	s.fetches.delay = 100 * time.Millisecond
	c := s.transport(t, nil).Client()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"ping"}`, i)
			if code, got := do(t, c, http.MethodPost, s.server.URL, body); code != http.StatusOK || got != body {
				t.Errorf("request %d: %d %q", i, code, got)
			}
		})
	}
	wg.Wait()
	jtis, failures, proofs := s.server.seen()
	if len(failures) > 0 || proofs != 20 {
		t.Fatalf("%d proofs, failures %v", proofs, failures)
	}
	if n := s.fetches.n.Load(); n != 1 || len(slices.Compact(jtis)) != 1 {
		t.Fatalf("%d token requests for 20 concurrent calls, want 1", n)
	}
}

// A 401 invalid_token makes the transport renew the token and send the
// same body once more; other 401s are returned as they are.
func TestRetryAfterTokenRefused(t *testing.T) {
	s := newSetup(t, nil)
	c := s.transport(t, nil).Client()
	body := `{"jsonrpc":"2.0","id":7,"method":"tools/call"}`
	s.server.reject.Store(1)
	if code, got := do(t, c, http.MethodPost, s.server.URL, body); code != http.StatusOK || got != body {
		t.Fatalf("after one refusal: %d %q", code, got)
	}
	jtis, _, _ := s.server.seen()
	if n := s.fetches.n.Load(); n != 2 || len(jtis) != 2 || jtis[0] == jtis[1] {
		t.Fatalf("%d token requests, AATs %v; want a new token for the retry", n, jtis)
	}

	s.server.reject.Store(2) // refused again after renewal: no loop
	if code, _ := do(t, c, http.MethodPost, s.server.URL, body); code != http.StatusUnauthorized {
		t.Fatalf("refused twice: %d, want the 401", code)
	}
	if n := s.fetches.n.Load(); n != 3 {
		t.Fatalf("%d token requests, want 3 (one renewal per request)", n)
	}
	s.server.reject.Store(0)
}

// The issuer's refusals reach the caller as a *TokenError.
func TestIssuerRefusal(t *testing.T) {
	s := newSetup(t, nil)
	stranger, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*agent.Config)
		code string
	}{
		{"unregistered key", func(c *agent.Config) { c.Key = stranger }, "invalid_client"},
		{"another user", func(c *agent.Config) { c.LocalUser = "mallory" }, "invalid_grant"},
		{"tool not granted", func(c *agent.Config) { c.Scope = []string{"delete_repo"} }, "invalid_scope"},
		{"id token refused", func(c *agent.Config) {
			c.LocalUser, c.SubjectToken = "", func(context.Context) (string, error) { return "a.b.c", nil }
		}, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.transport(t, tt.edit).RoundTrip(req)
			if err == nil {
				_ = resp.Body.Close()
				t.Fatal("request sent")
			}
			var te *agent.TokenError
			if !errors.As(err, &te) || te.Code != tt.code {
				t.Fatalf("err = %v, want a TokenError %s", err, tt.code)
			}
		})
	}
	if _, _, proofs := s.server.seen(); proofs != 0 {
		t.Fatalf("%d requests reached the server without a token", proofs)
	}
}

// A subject token that cannot be had stops the request.
func TestSubjectTokenError(t *testing.T) {
	s := newSetup(t, nil)
	boom := errors.New("not logged in")
	tr := s.transport(t, func(c *agent.Config) {
		c.LocalUser, c.SubjectToken = "", func(context.Context) (string, error) { return "", boom }
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.server.URL, nil)
	if resp, err := tr.RoundTrip(req); !errors.Is(err, boom) {
		if resp != nil {
			_ = resp.Body.Close()
		}
		t.Fatalf("err = %v, want the subject token's error", err)
	}
}

// Scope is sent and narrows the tools in the token.
func TestScope(t *testing.T) {
	s := newSetup(t, nil)
	tr := s.transport(t, func(c *agent.Config) { c.Scope = []string{"read_file"} })
	if code, _ := do(t, tr.Client(), http.MethodPost, s.server.URL, "{}"); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if s.fetches.n.Load() != 1 {
		t.Fatal("no token fetched")
	}
	if tr.Thumbprint() != s.key.Thumbprint() {
		t.Fatal("thumbprint is not the key's")
	}
}

// Bodies above MaxBodySize are not sent (they could not be signed).
func TestBodyTooLarge(t *testing.T) {
	s := newSetup(t, nil)
	tr := s.transport(t, func(c *agent.Config) { c.MaxBodySize = 16 })
	for _, known := range []bool{true, false} {
		var body io.Reader = strings.NewReader(strings.Repeat("x", 17))
		if !known {
			body = io.MultiReader(body) // hides the length
		}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := tr.RoundTrip(req); !errors.Is(err, agent.ErrBodyTooLarge) {
			if resp != nil {
				_ = resp.Body.Close()
			}
			t.Fatalf("length known %v: err = %v, want ErrBodyTooLarge", known, err)
		}
	}
	if code, _ := do(t, tr.Client(), http.MethodPost, s.server.URL, strings.Repeat("x", 16)); code != http.StatusOK {
		t.Fatalf("body at the limit: %d", code)
	}
}

// Logs name the AAT by its jti and never hold the token or a proof.
func TestLogsHoldNoToken(t *testing.T) {
	s := newSetup(t, nil)
	var buf bytes.Buffer
	var mu sync.Mutex
	tr := s.transport(t, func(c *agent.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return buf.Write(p)
		}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	s.server.reject.Store(1)
	if code, _ := do(t, tr.Client(), http.MethodPost, s.server.URL, "{}"); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	jtis, _, _ := s.server.seen()
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if !strings.Contains(logs, jtis[0]) || strings.Contains(logs, "eyJ") {
		t.Fatalf("logs should name jti %s and hold no JWS:\n%s", jtis[0], logs)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestConfigErrors(t *testing.T) {
	key, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	good := agent.Config{IssuerURL: "http://127.0.0.1:8443", Audience: "https://mcp.test", Key: key, LocalUser: "alice"}
	if _, err := agent.New(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	subject := func(context.Context) (string, error) { return "", nil }
	for name, edit := range map[string]func(*agent.Config){
		"binding":               func(c *agent.Config) { c.LocalUser, c.Binding = "", &agent.Binding{User: "alice@example.com"} },
		"ci token, no key":      func(c *agent.Config) { c.LocalUser, c.CIToken, c.Key = "", subject, nil },
		"ci token, its own key": func(c *agent.Config) { c.LocalUser, c.CIToken = "", subject },
	} {
		cfg := good
		edit(&cfg)
		if _, err := agent.New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	tests := []struct {
		name string
		edit func(*agent.Config)
		want []string
	}{
		{"no issuer", func(c *agent.Config) { c.IssuerURL = "" }, []string{"IssuerURL"}},
		{"relative issuer", func(c *agent.Config) { c.IssuerURL = "/issuer" }, []string{"IssuerURL"}},
		{"issuer with slash", func(c *agent.Config) { c.IssuerURL += "/" }, []string{"IssuerURL"}},
		{"ftp issuer", func(c *agent.Config) { c.IssuerURL = "ftp://x" }, []string{"IssuerURL"}},
		{"no audience", func(c *agent.Config) { c.Audience = "" }, []string{"Audience"}},
		{"empty scope", func(c *agent.Config) { c.Scope = []string{} }, []string{"Scope"}},
		{"scope with space", func(c *agent.Config) { c.Scope = []string{"a b"} }, []string{"Scope"}},
		{"no subject", func(c *agent.Config) { c.LocalUser = "" }, []string{"SubjectToken"}},
		{"two subjects", func(c *agent.Config) { c.SubjectToken = subject }, []string{"LocalUser"}},
		{"no credential", func(c *agent.Config) { c.Key = nil }, []string{"Key"}},
		{"binding and local user", func(c *agent.Config) { c.Binding = &agent.Binding{} }, []string{"Binding"}},
		{"binding, no credential", func(c *agent.Config) { c.LocalUser, c.Binding, c.Key = "", &agent.Binding{}, nil }, []string{"Key"}},
		{"binding user with spaces", func(c *agent.Config) { c.LocalUser, c.Binding = "", &agent.Binding{User: " alice"} }, []string{"Binding.User"}},
		{"ci token and id token", func(c *agent.Config) { c.LocalUser, c.SubjectToken, c.CIToken = "", subject, subject }, []string{"CIToken"}},
		{"ci token with a jwt-svid", func(c *agent.Config) {
			c.LocalUser, c.CIToken, c.JWTSource = "", subject, (*workloadapi.JWTSource)(nil)
		}, []string{"CIToken"}},
		{"ci token with an x509-svid", func(c *agent.Config) {
			c.LocalUser, c.CIToken, c.X509Source = "", subject, (*workloadapi.X509Source)(nil)
		}, []string{"CIToken"}},
		{"negative refresh", func(c *agent.Config) { c.RefreshBefore = -time.Second }, []string{"RefreshBefore"}},
		{"every problem at once", func(c *agent.Config) { c.IssuerURL, c.Audience, c.Key = "", "", nil },
			[]string{"IssuerURL", "Audience", "Key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, err := agent.New(cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w+":") {
					t.Fatalf("error %q does not name %s", err, w)
				}
			}
		})
	}
}
