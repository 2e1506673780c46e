package federation

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/federation"
)

// peerWatch is the watch of one peer's bundle endpoint; it implements
// federation.BundleWatcher.
type peerWatch struct {
	peer Peer
	w    *Watcher
	log  *slog.Logger

	mu      sync.RWMutex
	bundle  *spiffebundle.Bundle // nil: none yet
	fetched bool                 // bundle came from the endpoint
	failed  bool                 // the last fetch failed
	first   chan struct{}        // closed at the first successful fetch
}

var _ federation.BundleWatcher = (*peerWatch)(nil)

func (p *peerWatch) run(ctx context.Context) {
	var opts []federation.FetchOption
	switch p.peer.Profile {
	case ProfileSPIFFE:
		opts = append(opts, federation.WithSPIFFEAuth(authSource{p.w}, p.peer.EndpointID))
	case ProfileWeb:
		if p.peer.Roots != nil {
			opts = append(opts, federation.WithWebPKIRoots(p.peer.Roots))
		}
	}
	p.log.Info("watching federated bundle", "url", p.peer.BundleEndpointURL, "profile", p.peer.Profile)
	// WatchBundle returns only when ctx is done.
	_ = federation.WatchBundle(ctx, p.peer.TrustDomain, p.peer.BundleEndpointURL, p, opts...)
}

func (p *peerWatch) latest() (*spiffebundle.Bundle, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.bundle, p.fetched
}

func (p *peerWatch) firstFetch() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == nil {
		p.first = make(chan struct{})
		if p.fetched {
			close(p.first)
		}
	}
	return p.first
}

// NextRefresh follows the endpoint's hint, bounded below by MinRefresh;
// after a failure it retries sooner.
func (p *peerWatch) NextRefresh(hint time.Duration) time.Duration {
	next := p.w.cfg.Refresh
	if hint > 0 {
		next = hint
	}
	// The flag is consumed: WatchBundle reports no unchanged success, so
	// the next failure sets it again.
	p.mu.Lock()
	failed := p.failed
	p.failed = false
	p.mu.Unlock()
	if failed {
		next = min(next, p.w.cfg.Retry)
	}
	return max(next, MinRefresh)
}

// OnUpdate keeps a fetched bundle that differs from the last one.
func (p *peerWatch) OnUpdate(b *spiffebundle.Bundle) {
	seq, hasSeq := b.SequenceNumber()
	hint, _ := b.RefreshHint()
	p.mu.Lock()
	p.bundle, p.failed = b, false
	if !p.fetched {
		p.fetched = true
		if p.first != nil {
			close(p.first)
		}
	}
	p.mu.Unlock()
	attrs := []any{"x509_authorities", len(b.X509Authorities()), "jwt_authorities", len(b.JWTAuthorities()), "refresh_hint", hint}
	if hasSeq {
		attrs = append(attrs, "sequence_number", seq)
	}
	p.log.Info("federated bundle refreshed", attrs...)
}

// OnError keeps the last bundle and retries sooner.
func (p *peerWatch) OnError(err error) {
	p.mu.Lock()
	p.failed = true
	have := p.bundle != nil
	p.mu.Unlock()
	p.log.Warn("federated bundle fetch failed", "url", p.peer.BundleEndpointURL, "keeping_last_bundle", have, "err", err)
}
