package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/internal/revocation"
)

// revocationListType is the typ of the issuer's signed revocation list.
const revocationListType = "revocation-list+jwt"

const maxListSize = 8 << 20

// poller keeps one issuer's revocation list, fetched from its GET
// /v1/revocations with If-None-Match, and checks its signature with the
// issuer's keys. Without Redis it is how revocations reach the enforcer.
type poller struct {
	issuer   string
	url      string
	keys     aat.KeySource
	client   *http.Client
	maxStale time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu      sync.RWMutex
	etag    string
	list    map[revocation.Kind]map[string]revocation.Revocation
	fresh   time.Time // last successful poll
	version string
}

// listPayload is the signed list's payload (issuer/server.RevocationList).
type listPayload struct {
	Issuer      string                  `json:"iss"`
	Version     string                  `json:"version"`
	Revocations []revocation.Revocation `json:"revocations"`
}

// run polls every interval until ctx ends.
func (p *poller) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := p.poll(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("revocation list poll failed; keeping the last list", "issuer", p.issuer, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll fetches the list once.
func (p *poller) poll(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return fmt.Errorf("revocation list: %w", err)
	}
	p.mu.RLock()
	if p.etag != "" {
		req.Header.Set("If-None-Match", p.etag)
	}
	p.mu.RUnlock()
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("revocation list: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusNotModified:
		p.mu.Lock()
		p.fresh = p.now()
		p.mu.Unlock()
		return nil
	case http.StatusOK:
	default:
		return fmt.Errorf("revocation list: issuer answered %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxListSize+1))
	if err != nil || len(data) > maxListSize {
		return fmt.Errorf("revocation list: read: too large or %w", err)
	}
	list, err := p.verify(ctx, data)
	if err != nil {
		return err
	}
	byKind := map[revocation.Kind]map[string]revocation.Revocation{}
	for _, r := range list.Revocations {
		if byKind[r.Kind] == nil {
			byKind[r.Kind] = map[string]revocation.Revocation{}
		}
		byKind[r.Kind][r.Subject] = r
	}
	p.mu.Lock()
	p.list, p.etag, p.fresh, p.version = byKind, resp.Header.Get("ETag"), p.now(), list.Version
	p.mu.Unlock()
	return nil
}

// verify checks the signed list: typ, an allowed algorithm, the issuer's
// key for its kid, and iss.
func (p *poller) verify(ctx context.Context, data []byte) (*listPayload, error) {
	var body struct {
		List string `json:"list"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.List == "" {
		return nil, errors.New("revocation list: not a {\"list\": JWS} body")
	}
	jws, err := jose.ParseSignedCompact(body.List, jwk.Algorithms())
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("revocation list: malformed JWS: %w", err)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != revocationListType {
		return nil, fmt.Errorf("revocation list: typ %q, want %s", typ, revocationListType)
	}
	key, err := p.keys.Key(ctx, p.issuer, h.KeyID)
	if err != nil {
		return nil, fmt.Errorf("revocation list: key %q: %w", h.KeyID, err)
	}
	if key.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("revocation list: kid %s is an %s key, list says %s", h.KeyID, key.Algorithm, h.Algorithm)
	}
	payload, err := jws.Verify(key.Public)
	if err != nil {
		return nil, errors.New("revocation list: bad signature")
	}
	var l listPayload
	if err := json.Unmarshal(payload, &l); err != nil {
		return nil, fmt.Errorf("revocation list: payload: %w", err)
	}
	if l.Issuer != p.issuer {
		return nil, fmt.Errorf("revocation list: iss %q, want %q", l.Issuer, p.issuer)
	}
	return &l, nil
}

// check answers from the last list; a list older than maxStale cannot
// answer (ErrUnavailable).
func (p *poller) check(s revocation.Subjects) (*revocation.Revocation, error) {
	now := p.now()
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.fresh.IsZero() || now.Sub(p.fresh) > p.maxStale {
		return nil, fmt.Errorf("revocation list of %s: %w: not refreshed since %s", p.issuer, revocation.ErrUnavailable, p.fresh.Format(time.RFC3339))
	}
	for _, k := range [...]struct {
		kind    revocation.Kind
		subject string
	}{{revocation.KindAgent, s.AgentID}, {revocation.KindUser, s.UserID}, {revocation.KindSession, s.SessionID}, {revocation.KindJTI, s.JTI}} {
		if k.subject == "" {
			continue
		}
		if r, ok := p.list[k.kind][k.subject]; ok && (r.ExpiresAt.IsZero() || now.Before(r.ExpiresAt)) {
			found := r // a copy on the heap only when there is one to return
			return &found, nil
		}
	}
	return nil, nil
}

// pollers is a RevocationChecker over one poller per issuer.
type pollers []*poller

// Check implements RevocationChecker.
func (ps pollers) Check(_ context.Context, iss string, s revocation.Subjects) (*revocation.Revocation, error) {
	i := slices.IndexFunc(ps, func(p *poller) bool { return p.issuer == iss })
	if i < 0 {
		return nil, fmt.Errorf("%w: no revocation list for issuer %q", revocation.ErrUnavailable, iss)
	}
	return ps[i].check(s)
}

// cacheChecker is a RevocationChecker over a Redis-fed revocation.Cache,
// shared by every issuer writing to that Redis.
type cacheChecker struct{ c *revocation.Cache }

// Check implements RevocationChecker.
func (c cacheChecker) Check(ctx context.Context, _ string, s revocation.Subjects) (*revocation.Revocation, error) {
	return c.c.Check(ctx, s)
}
