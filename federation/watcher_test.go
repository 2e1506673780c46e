package federation_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/federation"
)

func startWatcher(t *testing.T, cfg federation.WatcherConfig) *federation.Watcher {
	t.Helper()
	w, err := federation.NewWatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Start(context.Background())
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func waitFetched(t *testing.T, w *federation.Watcher, td spiffeid.TrustDomain) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WaitFetched(ctx, td); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherWebProfile(t *testing.T) {
	b := newCA(t, "b.test")
	served := b.bundle()
	served.SetRefreshHint(time.Second)
	served.SetSequenceNumber(1)
	ep := startEndpoint(t, served, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ep.srv.Certificate())
	w := startWatcher(t, federation.WatcherConfig{Peers: []federation.Peer{{TrustDomain: b.td,
		BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileWeb, Roots: roots}}, Retry: time.Second})

	waitFetched(t, w, b.td)
	xb, err := w.GetX509BundleForTrustDomain(b.td)
	if err != nil || !xb.HasX509Authority(b.cert) {
		t.Fatalf("x509 bundle of b.test = %v, %v; want the CA", xb, err)
	}

	// A new JWT authority is picked up on the refresh hint.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	next := served.Clone()
	if err := next.AddJWTAuthority("k2", pub); err != nil {
		t.Fatal(err)
	}
	next.SetSequenceNumber(2)
	ep.set(next, false)
	eventually(t, "refreshed bundle", func() bool {
		jb, err := w.GetJWTBundleForTrustDomain(b.td)
		return err == nil && jb.HasJWTAuthority("k2")
	})

	// The endpoint fails: the last bundle is kept.
	ep.set(next, true)
	time.Sleep(1500 * time.Millisecond) // at least one failed refresh
	if jb, err := w.GetJWTBundleForTrustDomain(b.td); err != nil || !jb.HasJWTAuthority("k2") {
		t.Fatalf("after a failed fetch: %v, %v; want the last bundle", jb, err)
	}
}

func TestWatcherSPIFFEProfile(t *testing.T) {
	b := newCA(t, "b.test")
	endpointID := spiffeid.RequireFromPath(b.td, "/spire/server")
	cert := b.svid(t, endpointID)
	ep := startEndpoint(t, b.bundle(), &cert)
	boot := b.bundle()

	t.Run("bootstrapped endpoint is fetched", func(t *testing.T) {
		w := startWatcher(t, federation.WatcherConfig{Peers: []federation.Peer{{TrustDomain: b.td,
			BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileSPIFFE, EndpointID: endpointID, Bootstrap: boot}}})
		waitFetched(t, w, b.td)
		if w.Fetched(b.td) == nil {
			t.Fatal("Fetched = nil after a fetch")
		}
	})

	t.Run("wrong endpoint id keeps the bootstrap only", func(t *testing.T) {
		w := startWatcher(t, federation.WatcherConfig{Peers: []federation.Peer{{TrustDomain: b.td,
			BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileSPIFFE,
			EndpointID: spiffeid.RequireFromPath(b.td, "/other"), Bootstrap: boot}}})
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		if err := w.WaitFetched(ctx, b.td); err == nil {
			t.Fatal("fetched from an endpoint with the wrong SPIFFE ID")
		}
		if xb, err := w.GetX509BundleForTrustDomain(b.td); err != nil || !xb.HasX509Authority(b.cert) {
			t.Fatalf("bootstrap bundle = %v, %v", xb, err)
		}
	})

	t.Run("no bootstrap and no trust fails closed", func(t *testing.T) {
		w := startWatcher(t, federation.WatcherConfig{Peers: []federation.Peer{{TrustDomain: b.td,
			BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileSPIFFE, EndpointID: endpointID}}})
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		if err := w.WaitFetched(ctx, b.td); err == nil {
			t.Fatal("fetched from an endpoint it cannot authenticate")
		}
		if _, err := w.GetX509BundleForTrustDomain(b.td); !errors.Is(err, federation.ErrNoBundle) {
			t.Fatalf("x509 bundle without bootstrap or fetch: %v, want ErrNoBundle", err)
		}
	})

	t.Run("trust source authenticates the endpoint", func(t *testing.T) {
		w := startWatcher(t, federation.WatcherConfig{Trust: b.bundle().X509Bundle(), Peers: []federation.Peer{{TrustDomain: b.td,
			BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileSPIFFE, EndpointID: endpointID}}})
		waitFetched(t, w, b.td)
	})
}

func TestWatcherUnfederated(t *testing.T) {
	w, err := federation.NewWatcher(federation.WatcherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := spiffeid.RequireTrustDomainFromString("c.test")
	if _, err := w.GetX509BundleForTrustDomain(c); !errors.Is(err, federation.ErrNoBundle) {
		t.Fatalf("x509: %v, want ErrNoBundle", err)
	}
	if _, err := w.GetJWTBundleForTrustDomain(c); !errors.Is(err, federation.ErrNoBundle) {
		t.Fatalf("jwt: %v, want ErrNoBundle", err)
	}
}

func TestNewWatcherRejects(t *testing.T) {
	td := spiffeid.RequireTrustDomainFromString("b.test")
	tests := []struct {
		name  string
		peers []federation.Peer
	}{
		{"no url", []federation.Peer{{TrustDomain: td, Profile: federation.ProfileWeb}}},
		{"no trust domain", []federation.Peer{{BundleEndpointURL: "https://x", Profile: federation.ProfileWeb}}},
		{"bad profile", []federation.Peer{{TrustDomain: td, BundleEndpointURL: "https://x", Profile: "http"}}},
		{"twice", []federation.Peer{{TrustDomain: td, BundleEndpointURL: "https://x", Profile: federation.ProfileWeb},
			{TrustDomain: td, BundleEndpointURL: "https://y", Profile: federation.ProfileWeb}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := federation.NewWatcher(federation.WatcherConfig{Peers: tt.peers}); err == nil {
				t.Fatal("NewWatcher accepted it")
			}
		})
	}
}

// Bad answers are fetch failures: the bootstrap bundle stays in use.
func TestWatcherBadAnswers(t *testing.T) {
	b := newCA(t, "b.test")
	for name, h := range map[string]http.HandlerFunc{
		"status 503": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) },
		"too large": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(bytes.Repeat([]byte(" "), federation.MaxBundleSize+1))
		},
		"not json": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) },
		"no keys":  func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"spiffe_sequence": 1}`)) },
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewTLSServer(h)
			t.Cleanup(srv.Close)
			roots := x509.NewCertPool()
			roots.AddCert(srv.Certificate())
			w := startWatcher(t, federation.WatcherConfig{Peers: []federation.Peer{{TrustDomain: b.td,
				BundleEndpointURL: srv.URL, Profile: federation.ProfileWeb, Roots: roots, Bootstrap: b.bundle()}}})
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			if err := w.WaitFetched(ctx, b.td); err == nil {
				t.Fatal("a bad answer counted as a fetch")
			}
			if xb, err := w.GetX509BundleForTrustDomain(b.td); err != nil || !xb.HasX509Authority(b.cert) {
				t.Fatalf("bootstrap bundle = %v, %v", xb, err)
			}
		})
	}
}
