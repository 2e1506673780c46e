package federation

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/federation"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
)

// peerWatch is the watch of one peer's bundle endpoint; it implements
// go-spiffe's federation.BundleWatcher.
type peerWatch struct {
	peer Peer
	w    *Watcher
	log  *slog.Logger

	mu      sync.RWMutex
	bundle  *spiffebundle.Bundle // nil: none yet
	fetched bool                 // bundle came from the endpoint
	failed  bool                 // the last fetch failed
	first   chan struct{}        // closed at the first successful fetch

	// Early fetches (Watcher.Refresh): kick wakes run; started and ended
	// count fetches; ended is closed and replaced as each one ends;
	// kicked is when the last early fetch was asked for, wanted the
	// count of fetches that will have ended once it has.
	kick    chan struct{}
	started uint64
	ends    uint64
	ended   chan struct{}
	kicked  time.Time
	wanted  uint64
}

var _ federation.BundleWatcher = (*peerWatch)(nil)

// run fetches the bundle, then again after NextRefresh, until ctx is
// done. It is go-spiffe's federation.WatchBundle loop with what that
// lacks: each fetch is bounded in time (a stalled endpoint cannot stop
// the refreshes) and in size, and a non-200 answer is an error.
func (p *peerWatch) run(ctx context.Context) {
	client := p.client()
	defer client.CloseIdleConnections()
	p.log.Info("watching federated bundle", "url", p.peer.BundleEndpointURL, "profile", p.peer.Profile)
	var last *spiffebundle.Bundle
	for {
		p.mu.Lock()
		p.started++
		p.mu.Unlock()
		b, err := p.fetch(ctx, client)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			p.OnError(err)
		case last == nil || !last.Equal(b):
			p.OnUpdate(b)
			last = b
		}
		p.endFetch()
		var hint time.Duration
		if last != nil {
			hint, _ = last.RefreshHint()
		}
		t := time.NewTimer(p.NextRefresh(hint))
		select {
		case <-t.C:
		case <-p.kick:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// endFetch counts a fetch as ended and wakes those waiting for it.
func (p *peerWatch) endFetch() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ends++
	if p.ended != nil {
		close(p.ended)
		p.ended = nil
	}
}

// refresh asks run for a fetch now, at most once per MinForcedRefresh,
// and waits until a fetch started after the request has ended (or the
// early fetch already asked for, when the last request was too recent).
// It returns at once when there is nothing to wait for, and ctx's error
// when ctx ends first.
func (p *peerWatch) refresh(ctx context.Context, now time.Time) error {
	p.mu.Lock()
	if p.kicked.IsZero() || now.Sub(p.kicked) >= MinForcedRefresh {
		p.kicked = now
		// The next fetch to start is the one the kick starts (or one
		// already due); the one in progress may predate the change.
		p.wanted = p.started + 1
		select {
		case p.kick <- struct{}{}:
		default: // one is already pending
		}
	}
	want := p.wanted
	for p.ends < want {
		if p.ended == nil {
			p.ended = make(chan struct{})
		}
		ch := p.ended
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	return nil
}

// client authenticates the endpoint by its profile: for https_spiffe its
// SVID, with the exact endpoint SPIFFE ID, against the watched bundles
// (then Trust), read at each handshake; for https_web a Web PKI
// certificate (the peer's roots, or the system's).
func (p *peerWatch) client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	switch p.peer.Profile {
	case ProfileSPIFFE:
		tr.TLSClientConfig = tlsconfig.TLSClientConfig(authSource{p.w}, tlsconfig.AuthorizeID(p.peer.EndpointID))
	default:
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.peer.Roots}
	}
	return &http.Client{Transport: tr, Timeout: FetchTimeout}
}

// fetch GETs and parses the peer's bundle.
func (p *peerWatch) fetch(ctx context.Context, client *http.Client) (*spiffebundle.Bundle, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.peer.BundleEndpointURL, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("bundle request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch bundle of %s: %w", p.peer.TrustDomain, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch bundle of %s: status %d", p.peer.TrustDomain, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("read bundle of %s: %w", p.peer.TrustDomain, err)
	}
	if len(body) > MaxBundleSize {
		return nil, fmt.Errorf("bundle of %s larger than %d bytes", p.peer.TrustDomain, MaxBundleSize)
	}
	b, err := spiffebundle.Parse(p.peer.TrustDomain, body)
	if err != nil {
		return nil, fmt.Errorf("bundle of %s: %w", p.peer.TrustDomain, err)
	}
	return b, nil
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
