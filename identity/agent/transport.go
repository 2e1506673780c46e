package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aip-project/aip/identity/dpop"
)

// ErrBodyTooLarge means a request body exceeds Config.MaxBodySize: it
// cannot be hashed into the proof, so it is not sent.
var ErrBodyTooLarge = errors.New("request body too large to sign")

// Transport adds an AAT and a DPoP proof to each request. It is safe for
// concurrent use; create one per (issuer, audience) and reuse it.
type Transport struct {
	cfg      Config
	key      *dpop.Key
	base     http.RoundTripper
	client   *http.Client
	tokenURL string
	now      func() time.Time
	log      *slog.Logger

	tokens tokenCache
}

var _ http.RoundTripper = (*Transport)(nil)

// New checks cfg and returns a Transport. It fetches no token yet.
func New(cfg Config) (*Transport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBodySize == 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	t := &Transport{cfg: cfg, key: cfg.Key, base: cfg.Base, client: cfg.HTTPClient,
		tokenURL: cfg.IssuerURL + "/v1/token", now: cfg.Now, log: cfg.Logger}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.key == nil {
		k, err := dpop.NewKey("")
		if err != nil {
			return nil, fmt.Errorf("agent: ephemeral dpop key: %w", err)
		}
		t.key = k
	}
	if t.base == nil {
		base, err := baseTransport(cfg)
		if err != nil {
			return nil, err
		}
		t.base = base
	}
	if t.client == nil {
		t.client = &http.Client{Transport: t.base, Timeout: DefaultFetchTimeout}
	}
	t.tokens.fetch = t.fetch
	t.tokens.now = t.now
	t.tokens.log = t.log
	return t, nil
}

// Client returns an http.Client sending through t, e.g. for the MCP Go
// SDK's StreamableClientTransport.HTTPClient.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// Thumbprint is the RFC 7638 thumbprint of the proof key: the jkt the
// tokens are bound to (and, for a native-key agent, its registry key).
func (t *Transport) Thumbprint() string { return t.key.Thumbprint() }

// RoundTrip sends a clone of req with the AAT (Authorization: DPoP or
// Bearer, as the issuer typed it) and, for a DPoP token, a fresh proof
// over the method, URL, token and body. A body is read (at most
// MaxBodySize) and sent from memory; req is never modified. When the
// server answers 401 with error="invalid_token" or "invalid_dpop_proof"
// in WWW-Authenticate, the token is renewed and the request sent once
// more.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := t.readBody(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	tok, err := t.tokens.get(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("aip token: %w", err)
	}
	resp, err := t.send(req, body, tok)
	if err != nil || !tokenRejected(resp) {
		return resp, err
	}
	fresh, ferr := t.tokens.get(ctx, tok)
	if ferr != nil {
		t.log.Warn("token renewal after 401 failed", "jti", tok.JTI, "err", ferr)
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	t.log.Info("token refused by the server; sent again with a new one", "old_jti", tok.JTI, "jti", fresh.JTI)
	return t.send(req, body, fresh)
}

// send sends a clone of req with body and tok.
func (t *Transport) send(req *http.Request, body []byte, tok *Token) (*http.Response, error) {
	r := req.Clone(req.Context())
	if body != nil {
		r.ContentLength = int64(len(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			r.Body = http.NoBody
		}
	}
	r.Header.Set("Authorization", tok.Type+" "+tok.AccessToken)
	r.Header.Del("DPoP")
	if tok.Type == TypeDPoP {
		proof, err := dpop.Proof(t.key, dpop.Options{
			Method: req.Method, URL: req.URL.String(), AccessToken: tok.AccessToken, Body: body, Now: t.now,
		})
		if err != nil {
			return nil, fmt.Errorf("dpop proof: %w", err)
		}
		r.Header.Set("DPoP", proof)
	}
	return t.base.RoundTrip(r)
}

// readBody buffers req's body, closing it. nil means no body is bound:
// a GET, HEAD or DELETE without one. An empty POST binds the empty body.
func (t *Transport) readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		switch req.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			return []byte{}, nil
		}
		return nil, nil
	}
	defer req.Body.Close()
	if req.ContentLength > t.cfg.MaxBodySize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, req.ContentLength, t.cfg.MaxBodySize)
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, t.cfg.MaxBodySize+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(b)) > t.cfg.MaxBodySize {
		return nil, fmt.Errorf("%w: limit %d", ErrBodyTooLarge, t.cfg.MaxBodySize)
	}
	return b, nil
}

// tokenRejected reports a 401 that a new token may cure (RFC 6750 §3.1,
// RFC 9449 §7.1).
func tokenRejected(resp *http.Response) bool {
	if resp.StatusCode != http.StatusUnauthorized {
		return false
	}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if strings.Contains(v, `error="invalid_token"`) || strings.Contains(v, `error="invalid_dpop_proof"`) {
			return true
		}
	}
	return false
}
