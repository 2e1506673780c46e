package federation_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
)

func edKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestBundlesMerge(t *testing.T) {
	a, b, b2 := newCA(t, "a.test"), newCA(t, "b.test"), newCA(t, "b.test")
	k1, k2, k3 := edKey(t), edKey(t), edKey(t)
	own := x509bundle.NewSet(a.bundle().X509Bundle(), b.bundle().X509Bundle())
	watched := x509bundle.NewSet(b2.bundle().X509Bundle())
	jwtOwn := jwtbundle.NewSet(jwtbundle.FromJWTAuthorities(b.td, map[string]crypto.PublicKey{"k1": k1, "k": k2}))
	jwtWatched := jwtbundle.NewSet(jwtbundle.FromJWTAuthorities(b.td, map[string]crypto.PublicKey{"k3": k3, "k": k3}))
	c := spiffeid.RequireTrustDomainFromString("c.test")

	all := &federation.Bundles{X509: []x509bundle.Source{own, watched}, JWT: []jwtbundle.Source{jwtOwn, jwtWatched}}
	xb, err := all.GetX509BundleForTrustDomain(b.td)
	if err != nil || !xb.HasX509Authority(b.cert) || !xb.HasX509Authority(b2.cert) || len(xb.X509Authorities()) != 2 {
		t.Fatalf("merged x509 of b.test = %v, %v; want both CAs once", xb, err)
	}
	if xb, err := all.GetX509BundleForTrustDomain(a.td); err != nil || !xb.HasX509Authority(a.cert) {
		t.Fatalf("x509 of a.test (one source) = %v, %v", xb, err)
	}
	if _, err := all.GetX509BundleForTrustDomain(c); !errors.Is(err, federation.ErrNoBundle) {
		t.Fatalf("x509 of an unknown domain: %v, want ErrNoBundle", err)
	}
	jb, err := all.GetJWTBundleForTrustDomain(b.td)
	if err != nil || len(jb.JWTAuthorities()) != 3 {
		t.Fatalf("merged jwt of b.test = %v, %v; want k1, k, k3", jb, err)
	}
	if k, _ := jb.FindJWTAuthority("k"); !k2.Equal(k) {
		t.Error("kid held by two sources: the first source must win")
	}

	only := &federation.Bundles{X509: []x509bundle.Source{own, watched}, JWT: []jwtbundle.Source{jwtOwn}, TrustDomains: []spiffeid.TrustDomain{a.td}}
	if _, err := only.GetX509BundleForTrustDomain(b.td); !errors.Is(err, federation.ErrNoBundle) {
		t.Fatalf("x509 of a domain outside TrustDomains: %v, want ErrNoBundle", err)
	}
	if _, err := only.GetJWTBundleForTrustDomain(b.td); !errors.Is(err, federation.ErrNoBundle) {
		t.Fatalf("jwt of a domain outside TrustDomains: %v, want ErrNoBundle", err)
	}
	if _, err := only.GetX509BundleForTrustDomain(a.td); err != nil {
		t.Fatalf("x509 of an allowed domain: %v", err)
	}
}

func TestPublisher(t *testing.T) {
	a := newCA(t, "a.test")
	keys := map[string]crypto.PublicKey{"issuer-v1": edKey(t)}
	now := time.Unix(1_700_000_000, 0)
	p, err := federation.NewPublisher(federation.PublisherConfig{TrustDomain: a.td, X509: x509bundle.NewSet(a.bundle().X509Bundle()),
		JWTKeys:     func(context.Context) (map[string]crypto.PublicKey, error) { return keys, nil },
		RefreshHint: 30 * time.Second, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	b1, err := p.GetBundleForTrustDomain(a.td)
	if err != nil {
		t.Fatal(err)
	}
	seq1, _ := b1.SequenceNumber()
	hint, _ := b1.RefreshHint()
	if !b1.HasX509Authority(a.cert) || !b1.HasJWTAuthority("issuer-v1") || hint != 30*time.Second || seq1 != uint64(now.Unix()) {
		t.Fatalf("bundle: x509 %v, jwt %v, hint %s, seq %d", b1.X509Authorities(), b1.JWTAuthorities(), hint, seq1)
	}
	b2, _ := p.GetBundleForTrustDomain(a.td)
	if seq, _ := b2.SequenceNumber(); seq != seq1 {
		t.Errorf("unchanged content: sequence %d, want %d", seq, seq1)
	}
	keys["issuer-v2"] = edKey(t)
	b3, _ := p.GetBundleForTrustDomain(a.td)
	if seq, _ := b3.SequenceNumber(); seq <= seq1 || !b3.HasJWTAuthority("issuer-v2") {
		t.Errorf("changed content: sequence %d (was %d), v2 published %v", seq, seq1, b3.HasJWTAuthority("issuer-v2"))
	}
	if _, err := p.GetBundleForTrustDomain(spiffeid.RequireTrustDomainFromString("b.test")); !errors.Is(err, federation.ErrNoBundle) {
		t.Fatalf("another domain: %v, want ErrNoBundle", err)
	}
	// The published bundle round-trips through the SPIFFE format.
	data, err := b3.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := spiffebundle.Parse(a.td, data)
	if err != nil || !parsed.HasJWTAuthority("issuer-v1") || !parsed.HasX509Authority(a.cert) {
		t.Fatalf("parse published bundle: %v", err)
	}
}

// An enforcer trusting an issuer by its bundle: keys unavailable until the
// first fetch, then the issuer's AAT keys with their algorithm.
func TestIssuerKeys(t *testing.T) {
	a := newCA(t, "a.test")
	pub := edKey(t)
	served := a.bundle()
	if err := served.AddJWTAuthority("issuer-v1", pub); err != nil {
		t.Fatal(err)
	}
	ep := startEndpoint(t, served, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ep.srv.Certificate())
	w, err := federation.NewWatcher(federation.WatcherConfig{Peers: []federation.Peer{{TrustDomain: a.td,
		BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileWeb, Roots: roots, Bootstrap: a.bundle()}}})
	if err != nil {
		t.Fatal(err)
	}
	keys := federation.IssuerKeys{Watcher: w, TrustDomain: a.td}
	if _, err := keys.Key(context.Background(), "https://issuer-a", "issuer-v1"); !errors.Is(err, aat.ErrKeysUnavailable) {
		t.Fatalf("before the first fetch: %v, want ErrKeysUnavailable", err)
	}
	w.Start(context.Background())
	t.Cleanup(func() { _ = w.Close() })
	waitFetched(t, w, a.td)
	k, err := keys.Key(context.Background(), "https://issuer-a", "issuer-v1")
	if err != nil || k.Algorithm != jwk.EdDSA || !pub.Equal(k.Public) {
		t.Fatalf("key = %+v, %v", k, err)
	}
	if _, err := keys.Key(context.Background(), "https://issuer-a", "nope"); !errors.Is(err, aat.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v, want ErrUnknownKey", err)
	}
}

// An issuer that rotated its keys: a token naming a key the enforcer's
// copy of the bundle lacks makes the watcher fetch the bundle before its
// refresh is due, once for any number of such tokens at a time, and at
// most once per MinForcedRefresh.
func TestIssuerKeysRotation(t *testing.T) {
	a := newCA(t, "a.test")
	served := a.bundle()
	if err := served.AddJWTAuthority("issuer-v1", edKey(t)); err != nil {
		t.Fatal(err)
	}
	ep := startEndpoint(t, served, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ep.srv.Certificate())
	w, err := federation.NewWatcher(federation.WatcherConfig{Refresh: time.Hour, Peers: []federation.Peer{{TrustDomain: a.td,
		BundleEndpointURL: ep.srv.URL, Profile: federation.ProfileWeb, Roots: roots}}})
	if err != nil {
		t.Fatal(err)
	}
	keys := federation.IssuerKeys{Watcher: w, TrustDomain: a.td}
	if err := w.Refresh(context.Background(), a.td); err == nil {
		t.Fatal("Refresh before Start: no error")
	}
	w.Start(context.Background())
	t.Cleanup(func() { _ = w.Close() })
	waitFetched(t, w, a.td)
	before := ep.hits.Load()

	// The issuer adds its next key.
	rotated := a.bundle()
	next := edKey(t)
	for kid, k := range map[string]crypto.PublicKey{"issuer-v1": served.JWTAuthorities()["issuer-v1"], "issuer-v2": next} {
		if err := rotated.AddJWTAuthority(kid, k); err != nil {
			t.Fatal(err)
		}
	}
	ep.set(rotated, false)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			k, err := keys.Key(context.Background(), "https://issuer-a", "issuer-v2")
			if err == nil && !next.Equal(k.Public) {
				err = errors.New("another key")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("the rotated key: %v", err)
		}
	}
	if n := ep.hits.Load() - before; n != 1 {
		t.Errorf("20 concurrent lookups of the new key fetched the bundle %d times, want 1", n)
	}
	// Within MinForcedRefresh an unknown kid is refused at once, without
	// a fetch.
	if _, err := keys.Key(context.Background(), "https://issuer-a", "forged"); !errors.Is(err, aat.ErrUnknownKey) {
		t.Fatalf("unknown kid: %v, want ErrUnknownKey", err)
	}
	if n := ep.hits.Load() - before; n != 1 {
		t.Errorf("a second unknown kid within %v fetched the bundle again (%d fetches)", federation.MinForcedRefresh, n)
	}
	if err := w.Refresh(context.Background(), spiffeid.RequireTrustDomainFromString("other.test")); !errors.Is(err, federation.ErrNoBundle) {
		t.Errorf("Refresh of a trust domain not federated: %v", err)
	}
}
