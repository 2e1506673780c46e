package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Defaults of a Watcher.
const (
	// DefaultRefresh is how often a bundle is fetched again when its
	// endpoint gives no refresh hint.
	DefaultRefresh = 5 * time.Minute
	// DefaultRetry is how soon a failed fetch is tried again (never later
	// than the refresh hint).
	DefaultRetry = 10 * time.Second
	// MinRefresh bounds how often an endpoint is fetched, whatever its
	// refresh hint says.
	MinRefresh = time.Second
	// FetchTimeout bounds one fetch of a bundle.
	FetchTimeout = 30 * time.Second
	// MaxBundleSize bounds a fetched bundle.
	MaxBundleSize = 1 << 20
	// MinForcedRefresh bounds how often Refresh fetches a bundle before
	// its refresh is due (tokens with unknown key ids cannot make an
	// enforcer hammer the endpoint).
	MinForcedRefresh = 10 * time.Second
)

// ErrNoBundle means a trust domain is not federated, or is and no bundle
// of it has been bootstrapped or fetched yet.
var ErrNoBundle = errors.New("no bundle for trust domain")

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	Peers []Peer
	// Trust authenticates https_spiffe endpoints whose SPIFFE ID is in a
	// trust domain the watcher does not hold (e.g. the Workload API's own
	// bundles); nil: the watched bundles only.
	Trust x509bundle.Source
	// Refresh is used when an endpoint gives no refresh hint; zero means
	// DefaultRefresh. Retry is the delay after a failed fetch; zero means
	// DefaultRetry.
	Refresh, Retry time.Duration
	// Logger receives refreshes and failures (trust domain, sequence
	// number, authority counts; never keys). Nil discards.
	Logger *slog.Logger
}

// Watcher holds the latest bundle of each federated trust domain and
// keeps them fresh from their bundle endpoints once Start is called. It
// is an x509bundle.Source, a jwtbundle.Source and a spiffebundle.Source,
// safe for concurrent use.
type Watcher struct {
	cfg   WatcherConfig
	peers map[spiffeid.TrustDomain]*peerWatch

	mu      sync.Mutex
	cancel  context.CancelFunc
	stopped chan struct{}
}

var (
	_ x509bundle.Source   = (*Watcher)(nil)
	_ jwtbundle.Source    = (*Watcher)(nil)
	_ spiffebundle.Source = (*Watcher)(nil)
)

// NewWatcher returns a watcher holding the peers' bootstrap bundles; it
// fetches nothing until Start.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{cfg: cfg, peers: make(map[spiffeid.TrustDomain]*peerWatch, len(cfg.Peers))}
	for _, p := range cfg.Peers {
		if p.TrustDomain.IsZero() || p.BundleEndpointURL == "" {
			return nil, errors.New("federation watcher: a peer needs a trust domain and a bundle endpoint url")
		}
		if _, dup := w.peers[p.TrustDomain]; dup {
			return nil, fmt.Errorf("federation watcher: trust domain %s listed twice", p.TrustDomain)
		}
		if p.Profile != ProfileSPIFFE && p.Profile != ProfileWeb {
			return nil, fmt.Errorf("federation watcher: %s: profile %q", p.TrustDomain, p.Profile)
		}
		pw := &peerWatch{peer: p, w: w, log: cfg.Logger.With("trust_domain", p.TrustDomain.Name()), kick: make(chan struct{}, 1)}
		if p.Bootstrap != nil {
			pw.bundle = p.Bootstrap.Clone()
		}
		w.peers[p.TrustDomain] = pw
	}
	return w, nil
}

// Start watches every peer's endpoint in the background until ctx is done
// or Close is called. It may be called once.
func (w *Watcher) Start(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped != nil {
		return
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.stopped = make(chan struct{})
	var wg sync.WaitGroup
	for _, pw := range w.peers {
		wg.Go(func() { pw.run(ctx) })
	}
	go func() {
		wg.Wait()
		close(w.stopped)
	}()
}

// Close stops the watches and waits for them to end.
func (w *Watcher) Close() error {
	w.mu.Lock()
	cancel, stopped := w.cancel, w.stopped
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-stopped
	}
	return nil
}

// TrustDomains returns the watched trust domains.
func (w *Watcher) TrustDomains() []spiffeid.TrustDomain {
	out := make([]spiffeid.TrustDomain, 0, len(w.peers))
	for td := range w.peers {
		out = append(out, td)
	}
	return out
}

// GetBundleForTrustDomain returns a copy of the latest bundle of td.
func (w *Watcher) GetBundleForTrustDomain(td spiffeid.TrustDomain) (*spiffebundle.Bundle, error) {
	pw, ok := w.peers[td]
	if !ok {
		return nil, fmt.Errorf("%w %s: not federated", ErrNoBundle, td)
	}
	b, _ := pw.latest()
	if b == nil {
		return nil, fmt.Errorf("%w %s: no bootstrap bundle and no successful fetch yet", ErrNoBundle, td)
	}
	return b.Clone(), nil
}

// GetX509BundleForTrustDomain returns the X.509 authorities of td.
func (w *Watcher) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	b, err := w.GetBundleForTrustDomain(td)
	if err != nil {
		return nil, err
	}
	return b.X509Bundle(), nil
}

// GetJWTBundleForTrustDomain returns the JWT authorities of td.
func (w *Watcher) GetJWTBundleForTrustDomain(td spiffeid.TrustDomain) (*jwtbundle.Bundle, error) {
	b, err := w.GetBundleForTrustDomain(td)
	if err != nil {
		return nil, err
	}
	return b.JWTBundle(), nil
}

// Fetched returns the latest bundle of td fetched from its endpoint, or
// nil when no fetch succeeded yet (a bootstrap bundle does not count).
func (w *Watcher) Fetched(td spiffeid.TrustDomain) *spiffebundle.Bundle {
	pw, ok := w.peers[td]
	if !ok {
		return nil
	}
	b, fetched := pw.latest()
	if !fetched {
		return nil
	}
	return b.Clone()
}

// Refresh fetches td's bundle now rather than at its next refresh, and
// waits for that fetch to end (successful or not) or ctx to be done: an
// enforcer meeting a key id its copy of the bundle lacks (the issuer
// rotated its keys) asks for it. Refreshes before the bundle's are due
// happen at most once per MinForcedRefresh per trust domain; a call within
// that window waits for the early fetch already asked for, if it has not
// ended, else returns at once. The watcher must have been started.
func (w *Watcher) Refresh(ctx context.Context, td spiffeid.TrustDomain) error {
	pw, ok := w.peers[td]
	if !ok {
		return fmt.Errorf("%w %s: not federated", ErrNoBundle, td)
	}
	w.mu.Lock()
	started := w.stopped != nil
	w.mu.Unlock()
	if !started {
		return fmt.Errorf("refresh bundle of %s: the watcher is not started", td)
	}
	return pw.refresh(ctx, time.Now())
}

// WaitFetched waits until each of tds has been fetched once, or ctx is
// done.
func (w *Watcher) WaitFetched(ctx context.Context, tds ...spiffeid.TrustDomain) error {
	for _, td := range tds {
		pw, ok := w.peers[td]
		if !ok {
			return fmt.Errorf("%w %s: not federated", ErrNoBundle, td)
		}
		select {
		case <-pw.firstFetch():
		case <-ctx.Done():
			return fmt.Errorf("bundle of %s not fetched yet: %w", td, ctx.Err())
		}
	}
	return nil
}

// authSource authenticates https_spiffe endpoints: the watched bundles,
// then Trust.
type authSource struct{ w *Watcher }

func (a authSource) GetX509BundleForTrustDomain(td spiffeid.TrustDomain) (*x509bundle.Bundle, error) {
	b, err := a.w.GetX509BundleForTrustDomain(td)
	if err != nil && a.w.cfg.Trust != nil {
		return a.w.cfg.Trust.GetX509BundleForTrustDomain(td)
	}
	return b, err
}
