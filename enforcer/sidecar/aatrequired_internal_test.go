package sidecar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aip-project/aip/enforcer/codes"
)

// A request without a token is -32015 AAT required when the handshake
// authenticated an agent's SVID, and -32008 Token required on a plain
// listener; neither challenge says error="invalid_token".
func TestMissingTokenCode(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	a := &authenticator{metrics: m}
	svid := selfSignedSVID(t, "spiffe://example.org/agent/a")
	tests := []struct {
		name string
		peer *tls.ConnectionState
		want codes.Code
	}{
		{"plain listener", nil, codes.TokenRequired},
		{"TLS without a client certificate", &tls.ConnectionState{}, codes.TokenRequired},
		{"mTLS agent SVID", &tls.ConnectionState{PeerCertificates: []*x509.Certificate{svid}}, codes.AATRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://mcp.test/mcp", http.NoBody)
			r.TLS = tt.peer
			_, d := a.authenticate(r, nil)
			if d == nil || d.code != tt.want || d.status != http.StatusUnauthorized {
				t.Fatalf("denial %+v, want 401 %d", d, tt.want)
			}
			h := http.Header{}
			d.headers(h, challenge{metadataURL: "https://mcp.test/.well-known/oauth-protected-resource/mcp"})
			if got := h.Get("WWW-Authenticate"); got != `Bearer resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		})
	}
}

// selfSignedSVID is a certificate with the SPIFFE ID id as its URI SAN.
func selfSignedSVID(t *testing.T, id string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), URIs: []*url.URL{u}, NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
