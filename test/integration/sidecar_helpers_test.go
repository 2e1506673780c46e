package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/test/issuertest"
	"github.com/aip-project/aip/test/sidecartest"
)

const (
	sidecarUser     = "carol"
	sidecarAudience = "https://everything.mcp.test"
	sidecarPolicy   = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: everything}
spec:
  allowed_tools: [echo, get-sum, add]
`
)

// offsetClock is the issuer's clock, which a test can set back.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// startSidecarIssuer runs a real issuer (local key, file store, local
// user: the embedded default, which needs the file store) on loopback.
func startSidecarIssuer(t *testing.T, clock *offsetClock) (string, *issuer.Issuer) {
	t.Helper()
	return issuertest.Start(t, issuertest.Options{LocalUser: sidecarUser, Now: clock.Now})
}

// registerNativeAgent registers a native-key agent for the local user.
func registerNativeAgent(t *testing.T, is *issuer.Issuer, id string, tools ...string) *dpop.Key {
	t.Helper()
	return issuertest.RegisterNativeAgent(t, is, sidecarUser, id, tools...)
}

// startSidecar runs `aip-enforcer serve` in-process (plain loopback) in
// front of upstream, with the shared Redis when redisAddr is set.
// publicURL, when set, is the URL clients use (a load balancer's).
func startSidecar(t *testing.T, issuerURL, upstream, redisAddr, prefix, publicURL string) string {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(sidecarPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	extra := ""
	if publicURL != "" {
		extra = fmt.Sprintf("public_url: %q\n", publicURL)
	}
	if redisAddr != "" {
		extra += fmt.Sprintf("redis: {addrs: [%q], prefix: %q, timeout: 500ms}\n", redisAddr, prefix)
	}
	return sidecartest.Start(t, fmt.Sprintf(`upstream: {url: %q}
policy: {path: %q}
audit: {path: %q}
audience: %q
issuers: [{issuer: %q}]
tls: {mode: plain}
%s`, upstream, pol, filepath.Join(dir, "audit.jsonl"), sidecarAudience, issuerURL, extra))
}

// recorder is the base transport under the agent SDK: it keeps the last
// POST exactly as sent (headers and body), for a replay.
type recorder struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Method != http.MethodPost {
		return http.DefaultTransport.RoundTrip(req)
	}
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.header, r.body = req.Header.Clone(), body
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last() (http.Header, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header.Clone(), bytes.Clone(r.body)
}

// agentTransport is the agent SDK for a native-key agent of the local
// user, for audience, on the clock now (nil: time.Now).
func agentTransport(t *testing.T, issuerURL, audience string, k *dpop.Key, base http.RoundTripper, now func() time.Time) *agent.Transport {
	t.Helper()
	tr, err := agent.New(agent.Config{IssuerURL: issuerURL, Audience: audience, Key: k, LocalUser: sidecarUser, Base: base, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// via sends the requests for the sidecar at from to the one at to: the
// load balancer in front of enforcer B. Others (the issuer) go direct.
type via struct{ from, to string }

func (v via) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != strings.TrimPrefix(v.from, "http://") {
		return http.DefaultTransport.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Host = strings.TrimPrefix(v.to, "http://")
	r.Host = ""
	return http.DefaultTransport.RoundTrip(r)
}
