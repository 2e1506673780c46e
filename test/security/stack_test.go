package security

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
	"github.com/aip-project/aip/test/stacktest"
)

// Limits of the sidecar under attack.
const (
	audience     = "https://everything.mcp.test"
	localUser    = "carol"
	maxBodyBytes = 256 << 10
	readTimeout  = 2 * time.Second
)

// policyYAML blocks get-sum and protects ~/.ssh and the stack's secret
// directory (%q).
const policyYAML = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: security}
spec:
  allowed_tools: [echo, read_file, trigger-long-running-operation]
  tool_rules:
    - tool: get-sum
      action: block
  protected_paths: [~/.ssh, %q]
`

// stack is an issuer, a sidecar and server-everything, with a counter of
// the requests that reach the server.
type stack struct {
	issuerURL string
	issuer    *issuer.Issuer
	sidecar   string // base URL, also its public URL (the DPoP htu base)
	auditPath string
	dir       string // holds secret/ (protected), public/ and link -> secret
	upstream  atomic.Int64
	revs      *revocation.RedisStore
}

func newStack(t *testing.T) *stack {
	t.Helper()
	rds := env.Redis(t)
	mcpURL := env.MCPServerHTTP(t)
	st := &stack{dir: t.TempDir()}
	st.startIssuer(t)
	up := st.countingProxy(t, mcpURL)
	prefix := fmt.Sprintf("aipsec%d", time.Now().UnixNano())
	st.startSidecar(t, up, rds.Addr, prefix)
	revs, err := revocation.NewRedis(revocation.RedisConfig{Client: rds.Client(t), Prefix: prefix + ":revocations", Channel: prefix + ":revocations"})
	if err != nil {
		t.Fatal(err)
	}
	st.revs = revs
	return st
}

// startIssuer runs the issuer in-process: local key, file store, the
// local user.
func (st *stack) startIssuer(t *testing.T) {
	t.Helper()
	st.issuerURL, st.issuer = issuertest.Start(t, issuertest.Options{LocalUser: localUser})
}

// countingProxy stands between the sidecar and server-everything and
// counts every request that gets through.
func (st *stack) countingProxy(t *testing.T, mcpURL string) string {
	t.Helper()
	target, err := url.Parse(mcpURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.URL.Path = target.Path },
		FlushInterval: -1}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st.upstream.Add(1)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + target.Path
}

// startSidecar runs `aip-enforcer serve` in-process (plain loopback, the
// shared Redis) in front of upstream.
func (st *stack) startSidecar(t *testing.T, upstream, redisAddr, prefix string) {
	t.Helper()
	for _, d := range []string{"secret", "public"} {
		if err := os.Mkdir(filepath.Join(st.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(st.dir, "secret"), filepath.Join(st.dir, "link")); err != nil {
		t.Fatal(err)
	}
	sc := stacktest.StartSidecar(t, stacktest.SidecarOptions{Issuer: st.issuerURL, Upstream: upstream,
		Policy: fmt.Sprintf(policyYAML, filepath.Join(st.dir, "secret")), Audience: audience,
		Redis: redisAddr, RedisPrefix: prefix, Extra: fmt.Sprintf("max_body_bytes: %d\nread_timeout: %s\n", maxBodyBytes, readTimeout)})
	st.sidecar, st.auditPath = sc.URL, sc.AuditPath
}

// registerAgent registers a native-key agent of the local user.
func (st *stack) registerAgent(t *testing.T, id string, tools ...string) *dpop.Key {
	t.Helper()
	return issuertest.RegisterNativeAgent(t, st.issuer, localUser, id, tools...)
}

func newKey(t *testing.T) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// auditLines is the number of records in the sidecar's audit log (each
// is written before its response is sent).
func (st *stack) auditLines(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(st.auditPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// verifyAudit checks the whole chain and returns its records.
func (st *stack) verifyAudit(t *testing.T) []audit.Record {
	t.Helper()
	f, err := os.Open(st.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rep, err := audit.Verify(f)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	if rep.Finding != nil || rep.IncompleteTail {
		t.Fatalf("audit log does not verify: finding %v, incomplete tail %v", rep.Finding, rep.IncompleteTail)
	}
	if n := st.auditLines(t); rep.Records != n {
		t.Fatalf("audit log: %d records verified of %d lines", rep.Records, n)
	}
	return stacktest.AuditRecords(t, st.auditPath)
}
