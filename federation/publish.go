package federation

import (
	"context"
	"crypto"
	"fmt"
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	TrustDomain spiffeid.TrustDomain
	// X509 gives the trust domain's X.509 authorities (the Workload API);
	// required.
	X509 x509bundle.Source
	// JWTKeys gives the keys to publish as JWT authorities, by key id: an
	// issuer's AAT signing keys. Nil publishes none.
	JWTKeys func(ctx context.Context) (map[string]crypto.PublicKey, error)
	// RefreshHint is put in the bundle; zero means DefaultRefreshHint.
	RefreshHint time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Publisher is the bundle an issuer serves on its bundle endpoint: its
// trust domain's X.509 authorities and its AAT signing keys as JWT
// authorities (kid preserved), so enforcers can trust the issuer "by
// bundle". Its sequence number grows whenever the content changes. It is
// a spiffebundle.Source; it never serves another trust domain.
//
// It serves no JWT-SVID authority: a SPIRE server must federate with
// SPIRE's own bundle endpoint, never with this one, or it would take AAT
// keys for JWT-SVID keys.
type Publisher struct {
	cfg PublisherConfig

	mu   sync.Mutex
	last *spiffebundle.Bundle // the content last served, without a sequence number
	seq  uint64
}

var _ spiffebundle.Source = (*Publisher)(nil)

// NewPublisher checks cfg and returns a Publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.TrustDomain.IsZero() || cfg.X509 == nil {
		return nil, fmt.Errorf("bundle publisher: trust domain and x509 source are required")
	}
	if cfg.RefreshHint <= 0 {
		cfg.RefreshHint = DefaultRefreshHint
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Publisher{cfg: cfg}, nil
}

// GetBundleForTrustDomain builds the bundle of the publisher's trust
// domain.
func (p *Publisher) GetBundleForTrustDomain(td spiffeid.TrustDomain) (*spiffebundle.Bundle, error) {
	if td != p.cfg.TrustDomain {
		return nil, fmt.Errorf("%w %s: this endpoint serves %s only", ErrNoBundle, td, p.cfg.TrustDomain)
	}
	xb, err := p.cfg.X509.GetX509BundleForTrustDomain(td)
	if err != nil {
		return nil, fmt.Errorf("x509 authorities of %s: %w", td, err)
	}
	b := spiffebundle.FromX509Bundle(xb)
	if p.cfg.JWTKeys != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := p.cfg.JWTKeys(ctx)
		if err != nil {
			return nil, fmt.Errorf("jwt authorities of %s: %w", td, err)
		}
		for kid, k := range keys {
			if err := b.AddJWTAuthority(kid, k); err != nil {
				return nil, fmt.Errorf("jwt authority %s: %w", kid, err)
			}
		}
	}
	b.SetRefreshHint(p.cfg.RefreshHint)
	b.SetSequenceNumber(p.sequence(b))
	return b, nil
}

// sequence returns the sequence number of b (which has none yet): the
// last one when the content is unchanged, otherwise a new one above it,
// taken from the clock so that it still grows across restarts.
func (p *Publisher) sequence(b *spiffebundle.Bundle) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil || !p.last.Equal(b) {
		p.last = b.Clone()
		p.seq = max(p.seq+1, uint64(max(p.cfg.Now().Unix(), 0)))
	}
	return p.seq
}
