package stacktest

import (
	"context"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/test/env"
)

// X509Source is a Workload API source of s that serves id's X509-SVID
// only: every workload of the tests runs as this process's uid, so each
// SPIRE entry applies to all of them and each must pick its own SVID. It
// fails t unless it holds id's SVID on return, and closes at t's end.
func X509Source(t testing.TB, s *env.SPIRE, id spiffeid.ID) *workloadapi.X509Source {
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

// MTLSClient presents src's SVID and accepts only a server whose SVID is
// one of servers. Each request opens a new connection, so each sees the
// certificate the server presents now.
func MTLSClient(src *workloadapi.X509Source, servers ...spiffeid.ID) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeOneOf(servers...))
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// ServerCert returns the certificate base's TLS server presents, over a
// new connection made with c; /healthz must answer 200.
func ServerCert(t testing.TB, c *http.Client, base string) *x509.Certificate {
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
