package sidecar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// svidServer serves HTTPS with an X509-SVID for id, issued by a new CA
// of id's trust domain, whose bundle it returns.
func svidServer(t *testing.T, id spiffeid.ID) (*httptest.Server, *x509bundle.Bundle) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, URIs: []*url.URL{id.TrustDomain().ID().URL()}}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, URIs: []*url.URL{id.URL()}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, x509bundle.FromX509Authorities(id.TrustDomain(), []*x509.Certificate{ca})
}

func TestIssuerClient(t *testing.T) {
	issuerID := spiffeid.RequireFromString("spiffe://a.test/aip/issuer")
	srv, bundle := svidServer(t, issuerID)
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(web.Close)
	// web's host differs from srv's only by name: reach it as localhost.
	_, webPort, _ := net.SplitHostPort(web.Listener.Addr().String())
	webURL := "https://localhost:" + webPort

	tests := []struct {
		name    string
		issuers []Issuer
		bundles x509bundle.Source
		url     string
		ok      bool
	}{
		{"svid of the configured id", []Issuer{{Issuer: srv.URL, SPIFFEID: issuerID}}, bundle, srv.URL, true},
		{"svid of another id", []Issuer{{Issuer: srv.URL, SPIFFEID: spiffeid.RequireFromString("spiffe://a.test/other")}}, bundle, srv.URL, false},
		{"svid of an unknown trust domain", []Issuer{{Issuer: srv.URL, SPIFFEID: issuerID}}, x509bundle.NewSet(), srv.URL, false},
		{"svid without bundles", []Issuer{{Issuer: srv.URL, SPIFFEID: issuerID}}, nil, srv.URL, false},
		{"svid where web pki is expected", []Issuer{{Issuer: webURL, SPIFFEID: issuerID}}, bundle, srv.URL, false},
		{"untrusted web pki certificate", []Issuer{{Issuer: srv.URL, SPIFFEID: issuerID}}, bundle, webURL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := issuerClient(tt.issuers, tt.bundles)
			resp, err := c.Get(tt.url)
			if err == nil {
				_ = resp.Body.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("GET %s: %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}
