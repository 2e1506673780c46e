package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/test/issuertest"
)

const localUser = "alice"

// clock is a settable clock shared by the issuer, the agent and the MCP
// server of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// startIssuer serves a real issuer (local key, file store, local user, and
// the YAML keys extra) on a loopback port, on clock c.
func startIssuer(t testing.TB, c *clock, extra string) (string, *issuer.Issuer) {
	t.Helper()
	return issuertest.Start(t, issuertest.Options{LocalUser: localUser, Now: c.Now, Extra: extra})
}

// registerAgent registers a native-key agent for the local user.
func registerAgent(t testing.TB, is *issuer.Issuer, id string, tools ...string) *dpop.Key {
	t.Helper()
	return issuertest.RegisterNativeAgent(t, is, localUser, id, tools...)
}

// mcpServer checks every request as an enforcer does — the AAT against
// the issuer's JWKS, the DPoP proof (method, URL, ath, body hash, jkt),
// proof jtis never reused — and passes it to next.
type mcpServer struct {
	URL      string // the endpoint, also the audience
	verifier *aat.Verifier
	now      func() time.Time
	next     http.Handler
	// reject refuses this many next requests with a 401 invalid_token.
	reject atomic.Int32

	mu        sync.Mutex
	proofJTIs map[string]bool
	aatJTIs   []string
	actors    []string // act.sub of each accepted token
	claims    []*aat.Claims
	methods   []string
	failures  []string
}

func startMCPServer(t *testing.T, issuerURL string, c *clock, next http.Handler) *mcpServer {
	t.Helper()
	s := &mcpServer{now: c.Now, next: next, proofJTIs: map[string]bool{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/mcp"
	src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: issuerURL + "/.well-known/jwks.json", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.verifier, err = aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{issuerURL: src},
		Audience: s.URL, Now: c.Now, RequireConfirmation: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *mcpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.check(r, body); err != nil {
		s.mu.Lock()
		s.failures = append(s.failures, r.Method+": "+err.Error())
		s.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if s.reject.Load() > 0 {
		s.reject.Add(-1)
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token", error_description="revoked for the test"`)
		http.Error(w, "token refused", http.StatusUnauthorized)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.next.ServeHTTP(w, r)
}

func (s *mcpServer) check(r *http.Request, body []byte) error {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || scheme != agent.TypeDPoP {
		return fmt.Errorf("authorization scheme %q, want DPoP", scheme)
	}
	claims, err := s.verifier.Verify(r.Context(), tok)
	if err != nil {
		return fmt.Errorf("aat: %w", err)
	}
	var bound []byte
	if r.Method == http.MethodPost {
		bound = body
	}
	if len(r.Header.Values("DPoP")) != 1 {
		return fmt.Errorf("%d DPoP headers", len(r.Header.Values("DPoP")))
	}
	pc, err := dpop.Verify(r.Header.Get("DPoP"), dpop.Expect{Method: r.Method, URL: s.URL, AccessToken: tok,
		Body: bound, JKT: claims.Confirmation.JKT, Now: s.now})
	if err != nil {
		return fmt.Errorf("dpop: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proofJTIs[pc.JTI] {
		return fmt.Errorf("proof jti %s replayed", pc.JTI)
	}
	s.proofJTIs[pc.JTI] = true
	s.aatJTIs = append(s.aatJTIs, claims.ID)
	s.actors = append(s.actors, claims.Actor.Subject)
	s.claims = append(s.claims, claims)
	s.methods = append(s.methods, r.Method)
	return nil
}

// seen returns the AAT jti of each accepted request, and the failures.
func (s *mcpServer) seen() (aatJTIs, failures []string, proofs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.aatJTIs...), append([]string(nil), s.failures...), len(s.proofJTIs)
}

// accepted returns the claims of each accepted request's AAT.
func (s *mcpServer) accepted() []*aat.Claims {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*aat.Claims(nil), s.claims...)
}

// echo answers with the request body.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(w, r.Body)
})

// countingTransport counts token requests to the issuer, each delayed.
type countingTransport struct {
	n     atomic.Int32
	delay time.Duration
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	time.Sleep(c.delay)
	return http.DefaultTransport.RoundTrip(r)
}

// setup is a running issuer, a registered agent "coder" and an MCP server.
type setup struct {
	clock     *clock
	issuerURL string
	issuer    *issuer.Issuer
	key       *dpop.Key
	server    *mcpServer
	fetches   *countingTransport
}

func newSetup(t *testing.T, next http.Handler) *setup {
	t.Helper()
	s := &setup{clock: newClock(), fetches: &countingTransport{}}
	s.issuerURL, s.issuer = startIssuer(t, s.clock, "")
	s.key = registerAgent(t, s.issuer, "coder", "read_file", "write_file")
	if next == nil {
		next = echo
	}
	s.server = startMCPServer(t, s.issuerURL, s.clock, next)
	return s
}

// config is a native-key, local-user agent for s's server.
func (s *setup) config() agent.Config {
	return agent.Config{
		IssuerURL: s.issuerURL, Audience: s.server.URL, Key: s.key, LocalUser: localUser,
		HTTPClient: &http.Client{Transport: s.fetches}, Now: s.clock.Now,
	}
}

func (s *setup) transport(t *testing.T, edit func(*agent.Config)) *agent.Transport {
	t.Helper()
	cfg := s.config()
	if edit != nil {
		edit(&cfg)
	}
	tr, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func do(t *testing.T, c *http.Client, method, url, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
