package integration

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/sidecartest"
)

// mtlsIDs are the workloads of the mTLS tests. They all run as this
// process's uid, so each SPIRE entry applies to every one of them and
// each component must pick its own SVID.
type mtlsIDs struct {
	issuer, enforcer, admin, agentA, agentB, ghost, outsider spiffeid.ID
}

func newMTLSIDs(td spiffeid.TrustDomain) mtlsIDs {
	return mtlsIDs{
		issuer:   spiffeid.RequireFromPath(td, "/aip/issuer"),
		enforcer: spiffeid.RequireFromPath(td, "/aip/enforcer"),
		admin:    spiffeid.RequireFromPath(td, "/ops/admin"),
		agentA:   spiffeid.RequireFromPath(td, "/agent/mtls-a"),
		agentB:   spiffeid.RequireFromPath(td, "/agent/mtls-b"),
		ghost:    spiffeid.RequireFromPath(td, "/agent/mtls-ghost"),
		outsider: spiffeid.RequireFromPath(td, "/ci/outsider"),
	}
}

// x509Source is a Workload API source that serves id's SVID only.
func x509Source(t *testing.T, s *env.SPIRE, id spiffeid.ID) *workloadapi.X509Source {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(s.WorkloadAddr)),
		workloadapi.WithDefaultX509SVIDPicker(func(svids []*x509svid.SVID) *x509svid.SVID {
			for _, sv := range svids {
				if sv.ID == id {
					return sv
				}
			}
			return nil
		}))
	if err != nil {
		t.Fatalf("x509 source for %s: %v", id, err)
	}
	t.Cleanup(func() { _ = src.Close() })
	if sv, err := src.GetX509SVID(); err != nil || sv.ID != id {
		t.Fatalf("x509 source for %s: %v", id, err)
	}
	return src
}

// mtlsClient presents src's SVID and accepts only a server whose SVID is
// one of servers. Each request opens a new connection.
func mtlsClient(src *workloadapi.X509Source, servers ...spiffeid.ID) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeOneOf(servers...))
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// x5t is the RFC 8705 thumbprint of src's certificate, computed here
// independently of the code under test.
func x5t(t *testing.T, src x509svid.Source) string {
	t.Helper()
	sv, err := src.GetX509SVID()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(sv.Certificates[0].Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// startMTLSIssuer runs a real issuer serving HTTPS with its own SVID,
// agents and admins authenticated by their X509-SVIDs.
func startMTLSIssuer(t *testing.T, s *env.SPIRE, ids mtlsIDs) (string, *issuer.Issuer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := "https://" + ln.Addr().String()
	cfg, err := config.Parse(fmt.Appendf(nil, `listen: %q
issuer_url: %q
tls: {spiffe: true, spiffe_id: %q}
spiffe: {workload_api_addr: %q, trust_domain: %q}
admins: {spiffe_ids: [%q]}
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
local_user: {enabled: true, user_id: %s}
`, ln.Addr().String(), base, ids.issuer, s.WorkloadAddr, s.TrustDomain.Name(), ids.admin,
		filepath.Join(dir, "audit.jsonl"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "store"), sidecarUser))
	if err != nil {
		_ = ln.Close()
		t.Fatalf("issuer config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	is, err := issuer.New(ctx, cfg, issuer.Options{})
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("issuer.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- is.Server.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("issuer serve: %v", err)
		}
		_ = is.Close()
	})
	return base, is
}

// startMTLSSidecar runs `aip-enforcer serve` with tls.mode spiffe, serving
// the SVID of own, in front of upstream; it trusts the issuer at
// issuerURL, reached with issuerClient.
func startMTLSSidecar(t *testing.T, s *env.SPIRE, own spiffeid.ID, issuerURL string, issuerClient *http.Client, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(sidecarPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sidecar.Parse(fmt.Appendf(nil, `listen: %q
upstream: {url: %q}
policy: {path: %q}
audit: {path: %q}
audience: %q
issuers: [{issuer: %q}]
tls:
  mode: spiffe
  workload_api_addr: %q
  trust_domains: [%q]
  id_patterns: ["spiffe://%s/agent/*"]
  spiffe_id: %q
`, ln.Addr().String(), upstream, pol, filepath.Join(dir, "audit.jsonl"), sidecarAudience, issuerURL,
		s.WorkloadAddr, s.TrustDomain.Name(), s.TrustDomain.Name(), own))
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	sidecartest.Run(t, ln, cfg, sidecar.Options{HTTPClient: issuerClient})
	return "https://" + ln.Addr().String()
}

// waitReady polls base/readyz with c until it answers 200.
func waitReady(t *testing.T, c *http.Client, base string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became ready (last error: %v)", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exchangeMTLS asks the issuer for an AAT for the local user with no
// actor token and no DPoP proof: the client certificate is the agent's
// only credential (RFC 8705 §2).
func exchangeMTLS(t *testing.T, c *http.Client, issuerURL string) (int, map[string]any) {
	t.Helper()
	f := url.Values{
		"grant_type":         {token.GrantTypeTokenExchange},
		"subject_token":      {sidecarUser},
		"subject_token_type": {token.TokenTypeLocalUser},
		"audience":           {sidecarAudience},
	}
	resp, err := c.Post(issuerURL+"/v1/token", "application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	return decodeJSON(t, resp)
}

// postJSON POSTs v as JSON with c.
func postJSON(t *testing.T, c *http.Client, u string, v any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(u, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return decodeJSON(t, resp)
}

func decodeJSON(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%d: not JSON: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// verifyAAT checks raw against the issuer's JWKS (fetched with c) as an
// enforcer for sidecarAudience would, and returns its claims.
func verifyAAT(t *testing.T, c *http.Client, issuerURL, raw string) *aat.Claims {
	t.Helper()
	keys, err := aat.NewJWKSSource(aat.JWKSConfig{URL: issuerURL + "/.well-known/jwks.json", Client: c})
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{issuerURL: keys}, Audience: sidecarAudience})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("AAT does not verify: %v", err)
	}
	return claims
}

// serverCert returns the certificate base's TLS server presents, over a
// new connection made with c.
func serverCert(t *testing.T, c *http.Client, base string) *x509.Certificate {
	t.Helper()
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("GET %s/healthz: %v", base, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		t.Fatalf("GET %s/healthz: %d, tls %v", base, resp.StatusCode, resp.TLS != nil)
	}
	return resp.TLS.PeerCertificates[0]
}

// refusedHandshake reports whether err is the server's TLS alert: the
// connection was refused during the handshake, not later.
func refusedHandshake(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}
