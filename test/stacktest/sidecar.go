package stacktest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/test/sidecartest"
)

// SidecarOptions say how StartSidecar configures `aip-enforcer serve`.
type SidecarOptions struct {
	Upstream string // the MCP server's URL
	Policy   string // the AgentPolicy document, written to a file
	Audience string
	// Issuer is the URL of the one trusted issuer; Issuers, when set,
	// replaces it with the whole issuers list (YAML flow style, without
	// the brackets).
	Issuer, Issuers string
	// TLS is the tls section (see SPIFFETLS); empty: plain HTTP.
	TLS string
	// Redis, when set, is the address of the Redis the nonces and
	// revocations are shared in, under RedisPrefix.
	Redis, RedisPrefix string
	// PublicURL is the URL clients use, when not the listener's (a load
	// balancer's).
	PublicURL string
	// Extra is more top-level YAML.
	Extra string
	// IssuerClient reaches the issuers; nil: the sidecar's own client.
	IssuerClient *http.Client
	// Probe checks readiness over TLS: a client the sidecar admits.
	// Required with TLS; plain HTTP uses http.DefaultClient.
	Probe *http.Client
}

// Sidecar is a sidecar StartSidecar runs.
type Sidecar struct {
	URL       string // its base URL: https:// with TLS
	AuditPath string // its audit log
}

// StartSidecar runs `aip-enforcer serve` configured by o in-process on a
// free loopback port until t ends, and returns once /readyz answers 200.
func StartSidecar(t testing.TB, o SidecarOptions) Sidecar {
	t.Helper()
	if o.TLS != "" && o.Probe == nil {
		t.Fatal("stacktest: SidecarOptions.TLS needs a Probe client the sidecar admits")
	}
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(o.Policy), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Sidecar{URL: "http://" + ln.Addr().String(), AuditPath: filepath.Join(dir, "audit.jsonl")}
	probe := http.DefaultClient
	if o.TLS == "" {
		o.TLS = "tls: {mode: plain}\n"
	} else {
		s.URL, probe = "https://"+ln.Addr().String(), o.Probe
	}
	if o.Issuers == "" {
		o.Issuers = fmt.Sprintf("{issuer: %q}", o.Issuer)
	}
	yaml := fmt.Sprintf("listen: %q\nupstream: {url: %q}\npolicy: {path: %q}\naudit: {path: %q}\naudience: %q\nissuers: [%s]\n%s",
		ln.Addr().String(), o.Upstream, pol, s.AuditPath, o.Audience, o.Issuers, o.TLS)
	if o.PublicURL != "" {
		yaml += fmt.Sprintf("public_url: %q\n", o.PublicURL)
	}
	if o.Redis != "" {
		yaml += fmt.Sprintf("redis: {addrs: [%q], prefix: %q, timeout: 500ms}\n", o.Redis, o.RedisPrefix)
	}
	cfg, err := sidecar.Parse([]byte(yaml + o.Extra))
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	sidecartest.Run(t, ln, cfg, sidecar.Options{HTTPClient: o.IssuerClient})
	sidecartest.WaitReadyWith(t, probe, s.URL)
	return s
}

// SPIFFETLS is a sidecar's tls section in mode spiffe: it serves own's
// X509-SVID from the Workload API at workloadAddr and admits clients of
// trustDomains whose SPIFFE ID matches idPattern.
func SPIFFETLS(workloadAddr string, own spiffeid.ID, idPattern string, trustDomains ...spiffeid.TrustDomain) string {
	names := make([]string, len(trustDomains))
	for i, td := range trustDomains {
		names[i] = fmt.Sprintf("%q", td.Name())
	}
	return fmt.Sprintf("tls: {mode: spiffe, workload_api_addr: %q, trust_domains: [%s], id_patterns: [%q], spiffe_id: %q}\n",
		workloadAddr, strings.Join(names, ", "), idPattern, own)
}
