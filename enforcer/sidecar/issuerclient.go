package sidecar

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// issuerClient returns the client that fetches issuer keys and revocation
// lists. A host of an issuer with a SPIFFE ID (issuers[].spiffe_id) must
// present that X509-SVID, checked with bundles; any other host a Web PKI
// certificate, checked with the system roots (Go's usual client when no
// issuer has a SPIFFE ID).
func issuerClient(issuers []Issuer, bundles x509bundle.Source) *http.Client {
	ids := map[string][]spiffeid.ID{} // host → the SPIFFE IDs it may serve
	for _, is := range issuers {
		if is.SPIFFEID.IsZero() {
			continue
		}
		for _, raw := range []string{is.Issuer, is.JWKSURL} {
			if u, err := url.Parse(raw); err == nil && raw != "" && !slices.Contains(ids[u.Hostname()], is.SPIFFEID) {
				ids[u.Hostname()] = append(ids[u.Hostname()], is.SPIFFEID)
			}
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(ids) > 0 {
		// The TLS connection is made here so that its check knows the
		// host dialed (a client sees no server name for an IP address).
		tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(conn, &tls.Config{
				MinVersion: tls.VersionTLS12, ServerName: host,
				// Verified by VerifyConnection: SPIFFE or Web PKI, per host.
				InsecureSkipVerify: true, //nolint:gosec // verified below
				VerifyConnection:   func(cs tls.ConnectionState) error { return verifyIssuerConn(cs, host, ids[host], bundles) },
			})
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, err
			}
			return tc, nil
		}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: tr}
}

// verifyIssuerConn checks the certificate host presented: an X509-SVID
// with one of the IDs want, or, when want is empty, a Web PKI certificate
// for host.
func verifyIssuerConn(cs tls.ConnectionState, host string, want []spiffeid.ID, bundles x509bundle.Source) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("issuer presented no certificate")
	}
	if len(want) == 0 {
		opts := x509.VerifyOptions{DNSName: host, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
	if bundles == nil {
		return fmt.Errorf("issuer %s: no SPIFFE bundles to check its SVID (tls.mode spiffe)", host)
	}
	id, _, err := x509svid.Verify(cs.PeerCertificates, bundles)
	if err != nil {
		return fmt.Errorf("issuer %s: %w", host, err)
	}
	if !slices.Contains(want, id) {
		return fmt.Errorf("issuer %s: served %s, want one of %v", host, id, want)
	}
	return nil
}
