package sidecar

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/audit"
)

// aatCacheSize is how many verified AATs the sidecar remembers: an agent
// sends the same token on every call until it expires, and its signature
// need not be checked again (aat.Config.CacheSize).
const aatCacheSize = 10_000

// Options are the dependencies of a Server. Nil fields have defaults.
type Options struct {
	// Logger receives events (never tokens, proofs or keys). Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Registry receives the metrics. Nil means a new registry, served at
	// /metrics.
	Registry *prometheus.Registry
	// Upstream carries requests to the MCP server; redirects are not
	// followed (a proxy hands them back). Nil means keep-alive HTTP/1.1
	// (newUpstreamClient) with no overall timeout (streams are
	// long-lived).
	Upstream http.RoundTripper
	// HTTPClient fetches issuer keys and revocation lists. Nil means a
	// client with a 5 s timeout.
	HTTPClient *http.Client
	// Stderr receives the stderr of a stdio upstream (upstream.command).
	// Nil discards it.
	Stderr io.Writer
}

// Server is the sidecar: build it with New, run it with Serve.
type Server struct {
	cfg      *Config
	log      *slog.Logger
	now      func() time.Time
	reg      *prometheus.Registry
	metrics  *metrics
	engine   *enforcer.Engine
	reloader *enforcer.Reloader
	auth     *authenticator
	hashes   *hashHistory
	stores   *stores
	audit    *audit.Writer
	upstream http.RoundTripper
	child    *child // the stdio upstream, when upstream.command is set
	ids      idSeq
	tls      *tls.Config
	closers  []func() error
	// approvals is the approvals API; nil when approvals are off.
	approvals http.Handler
	// x509 is the Workload API source (tls mode spiffe); federation
	// watches the federated bundles (nil: none configured).
	x509       *workloadapi.X509Source
	federation *federation.Watcher
}

// New loads the policy, opens the audit log and stores, and returns a
// Server; with tls.mode spiffe it waits for the enforcer's SVID.
func New(ctx context.Context, cfg *Config, opts Options) (s *Server, err error) {
	s = &Server{cfg: cfg, log: opts.Logger, now: opts.Now, reg: opts.Registry, upstream: opts.Upstream}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	if s.upstream == nil && cfg.UpstreamURL != "" {
		var closeIdle func()
		s.upstream, closeIdle = newUpstreamClient(cfg.UpstreamURL)
		s.closers = append(s.closers, func() error { closeIdle(); return nil })
	}
	hc := opts.HTTPClient // nil: issuerClient, once the bundles are known
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	if s.metrics, err = newMetrics(s.reg); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	keys, hc, err := s.openIssuerKeys(ctx, cfg, hc)
	if err != nil {
		return nil, err
	}
	if s.stores, err = openStores(cfg, keys, hc, s.now, s.log); err != nil {
		return nil, err
	}
	if s.stores.redis != nil {
		s.closers = append(s.closers, s.stores.redis.Close)
	}
	if err := s.openEngine(); err != nil {
		return nil, err
	}
	if len(cfg.UpstreamCommand) > 0 {
		if s.child, err = startChild(cfg.UpstreamCommand, opts.Stderr, s.engine, int(cfg.MaxBodyBytes), s.log); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, s.child.close)
	}
	verifier, err := aat.NewVerifier(aat.Config{Issuers: keys, Audience: cfg.Audience, Skew: cfg.Skew, Now: s.now,
		RequireConfirmation: true, CacheSize: aatCacheSize})
	if err != nil {
		return nil, err
	}
	s.hashes = &hashHistory{current: func() string { return s.engine.Policy().Hash() }, grace: cfg.PolicyHashGrace}
	s.auth = &authenticator{verifier: verifier, nonces: s.stores.nonces, revocations: s.stores.revocations,
		policyHashes: s.hashes, requireProof: cfg.RequireProof, failOpen: cfg.Revocation.FailOpen,
		maxAge: cfg.ProofMaxAge, skew: min(cfg.Skew, 5*time.Minute), publicURL: cfg.PublicURL, now: s.now, log: s.log, metrics: s.metrics,
		maxDelegationAge: cfg.MaxDelegationAge}
	if cfg.TLS.Mode == TLSModeSPIFFE {
		s.tls = spiffeTLS(cfg.TLS, s.x509, s.x509Bundles())
	}
	return s, nil
}

// openEngine loads the policy (checking its signature when a trusted key
// is set), opens the audit log and builds the Engine.
func (s *Server) openEngine() error {
	opts := policy.Options{RateLimiter: s.stores.limiter, Now: s.now}
	if s.cfg.AuditPath != "" {
		// The audit log is a protected path, as in stdio mode: no tool
		// call may name it.
		abs, err := filepath.Abs(s.cfg.AuditPath)
		if err != nil {
			return fmt.Errorf("audit.path: %w", err)
		}
		opts.ExtraProtected = []string{abs}
	}
	if s.cfg.TrustedKey != "" {
		k, err := policy.ReadPublicKey(s.cfg.TrustedKey)
		if err != nil {
			return fmt.Errorf("policy.trusted_key: %w", err)
		}
		opts.TrustedKey = k
	}
	p, err := policy.Load(s.cfg.PolicyPath, opts)
	if err != nil {
		return fmt.Errorf("refusing to start, nothing is forwarded without a valid policy: %w", err)
	}
	if s.cfg.AuditPath != "" {
		if s.audit, err = audit.Open(s.cfg.AuditPath, audit.Config{Logger: s.log}); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		s.closers = append(s.closers, s.audit.Close)
	}
	var gate *approval.Gate
	gate, s.approvals = s.openApprovals()
	if s.engine, err = enforcer.New(enforcer.Config{Policy: p, Audit: s.audit, Gate: gate, Logger: s.log, Now: s.now}); err != nil {
		return err
	}
	s.reloader = &enforcer.Reloader{Path: s.cfg.PolicyPath, Options: opts, Engine: s.engine, Logger: s.log}
	s.log.Info("enforcing policy", "path", s.cfg.PolicyPath, "policy", p.Name(), "policy_hash", p.Hash())
	return nil
}

// Handler returns the routes: the MCP endpoint (the upstream URL's path),
// the protected resource metadata, health, readiness, metrics, the
// decision endpoint (/v1/validate) and the approvals API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(s.mcpPath(), s.serveMCP)
	mux.HandleFunc("GET /.well-known/oauth-protected-resource", s.serveMetadata)
	mux.HandleFunc("GET /.well-known/oauth-protected-resource/{path...}", s.serveMetadata)
	s.probeRoutes(mux)
	mux.HandleFunc("POST /v1/validate", s.serveValidate)
	if s.approvals != nil {
		mux.Handle("/v1/approvals", s.approvals)
		mux.Handle("/v1/approvals/", s.approvals)
	}
	return mux
}

// Serve runs the background work (revocations, policy reloads) and serves
// on ln, and on health_listen when set, until ctx ends, then shuts down
// gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stopHealth, err := s.startHealth(ctx)
	if err != nil {
		return err
	}
	defer stopHealth()
	bg, stop := context.WithCancel(ctx)
	defer stop()
	for _, run := range s.stores.run {
		go run(bg)
	}
	go func() {
		if err := s.reloader.Watch(bg, nil); err != nil && bg.Err() == nil {
			s.log.Error("policy file watch stopped", "err", err)
		}
	}()
	// ReadTimeout bounds reading each request, body included (a slow
	// body is cut off); serveMCP lifts it once a caller is authenticated,
	// for streams and approvals that outlast it. IdleTimeout outlasts the
	// 90 s for which Go clients (the agent SDK's default transport among
	// them) keep idle connections: the client closes first, so a POST is
	// never sent on a connection the server is closing (which fails with
	// EOF and is not retried). Without it the idle limit would be
	// ReadTimeout.
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout: s.cfg.ReadTimeout, IdleTimeout: idleTimeout, TLSConfig: s.tls,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		_ = hs.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the audit log, Redis client and SVID source.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Engine returns the policy engine (for reloads and tests).
func (s *Server) Engine() *enforcer.Engine { return s.engine }
