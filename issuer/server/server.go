package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/issuer/token"
)

// Defaults of Config.
const (
	DefaultBodyLimit       = 64 << 10
	DefaultRequestTimeout  = 10 * time.Second
	DefaultReadTimeout     = 10 * time.Second
	DefaultWriteTimeout    = 15 * time.Second
	DefaultShutdownTimeout = 15 * time.Second
	DefaultAIDTTL          = 24 * time.Hour
)

// Config configures a Server. Required fields are marked; zero durations
// and sizes take the defaults above.
type Config struct {
	IssuerURL   string           // required: no trailing slash
	Exchanger   *token.Exchanger // required
	Signer      signer.Signer    // required (instrumented by Metrics when set)
	Registry    registry.Store   // required
	Revocations revocation.Store // required
	Audit       token.Auditor    // required: revocations are audited
	Admins      Admins
	// LocalAdmins says who may call the admin APIs on the Unix socket
	// served by ServeAdmin.
	LocalAdmins LocalAdmins
	// Bindings holds SSO bindings; nil: none (no /v1/bindings, no /bind).
	Bindings binding.Store
	// SSO, with Bindings, serves the bind flow (bind.go); nil: none.
	SSO *SSO
	// TLSConfig, when set, serves HTTPS; client certificates are requested
	// (not required) and verified as X509-SVIDs by the handlers.
	TLSConfig *tls.Config

	BodyLimit                                                  int64
	RequestTimeout, ReadTimeout, WriteTimeout, ShutdownTimeout time.Duration
	AIDTTL                                                     time.Duration

	Metrics *Metrics         // nil: NewMetrics()
	Logger  *slog.Logger     // nil: discard
	Now     func() time.Time // nil: time.Now
}

// Admins says who may call the admin APIs.
type Admins struct {
	SPIFFEIDs []string // presenting an X509-SVID over mTLS
	Groups    []string // with a bearer OIDC ID token holding one of them
	// OIDC verifies bearer ID tokens; nil disables that path.
	OIDC token.SubjectVerifier
	// X509Bundles verifies client certificates; nil disables mTLS admins.
	X509Bundles x509bundle.Source
}

// Server is the issuer's HTTP server.
type Server struct {
	cfg       Config
	echo      *echo.Echo // the API
	adminEcho *echo.Echo // the admin routes only, for the Unix socket
	lists     signedList
	bind      *bindFlow // nil: no bind flow
}

// New checks cfg and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.IssuerURL == "" || cfg.Exchanger == nil || cfg.Signer == nil || cfg.Registry == nil ||
		cfg.Revocations == nil || cfg.Audit == nil {
		return nil, errors.New("issuer server: issuer url, exchanger, signer, registry, revocations and audit are required")
	}
	setDefault(&cfg.BodyLimit, DefaultBodyLimit)
	setDefault(&cfg.RequestTimeout, DefaultRequestTimeout)
	setDefault(&cfg.ReadTimeout, DefaultReadTimeout)
	setDefault(&cfg.WriteTimeout, DefaultWriteTimeout)
	setDefault(&cfg.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&cfg.AIDTTL, DefaultAIDTTL)
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.LocalAdmins.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg}
	if cfg.SSO != nil && cfg.Bindings != nil {
		f, err := newBindFlow(*cfg.SSO, cfg.TLSConfig != nil || strings.HasPrefix(cfg.IssuerURL, "https://"))
		if err != nil {
			return nil, err
		}
		s.bind = f
	}
	s.routes()
	return s, nil
}

func setDefault[T int64 | time.Duration](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}

func (s *Server) routes() {
	e := s.newEcho()
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.cfg.Metrics.Registry, promhttp.HandlerOpts{})))
	e.GET("/.well-known/jwks.json", s.jwks)
	e.GET("/.well-known/oauth-authorization-server", s.metadata)
	e.POST("/v1/token", s.token)
	e.GET("/v1/revocations", s.listRevocations)
	s.adminRoutes(e.Group("", s.requireAdmin))
	if s.bind != nil {
		s.bindRoutes(e)
	}
	if s.cfg.Bindings != nil {
		s.selfRoutes(e)
	}
	s.echo = e

	// The Unix socket serves the admin routes only, its callers
	// authorized by their uid.
	s.adminEcho = s.newEcho()
	s.adminRoutes(s.adminEcho.Group("", s.requireLocalAdmin))
}

// newEcho is an Echo with the error handler and middleware every route has.
func (s *Server) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(s.recoverPanics)
	e.Use(s.countRequests)
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dK", max(s.cfg.BodyLimit>>10, 1))))
	e.Use(middleware.ContextTimeout(s.cfg.RequestTimeout))
	return e
}

// adminRoutes are the registry and revocation APIs, behind the admin
// authentication of g.
func (s *Server) adminRoutes(g *echo.Group) {
	g.POST("/v1/agents", s.createAgent)
	g.GET("/v1/agents", s.listAgents)
	g.GET("/v1/agents/:id", s.getAgent)
	g.GET("/v1/agents/:id/aid", s.getAID)
	g.POST("/v1/agents/:id/suspend", s.setStatus(registry.StatusSuspended))
	g.POST("/v1/agents/:id/reactivate", s.setStatus(registry.StatusActive))
	g.POST("/v1/agents/:id/revoke", s.setStatus(registry.StatusRevoked))
	g.POST("/v1/revocations", s.revoke)
	s.bindingRoutes(g)
}

// Handler returns the HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves on ln until ctx is done, then shuts down gracefully within
// ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.cfg.TLSConfig != nil {
		ln = tls.NewListener(ln, s.cfg.TLSConfig)
	}
	srv := s.httpServer(s.echo)
	srv.TLSConfig = s.cfg.TLSConfig
	return s.serve(ctx, ln, srv)
}

// ServeAdmin serves the admin routes on ln, a Unix socket listener (see
// unixsock.Listen), until ctx is done. A caller is an administrator only
// if the kernel says its uid is one of LocalAdmins.UIDs; no other
// credential is looked at.
func (s *Server) ServeAdmin(ctx context.Context, ln net.Listener) error {
	srv := s.httpServer(s.adminEcho)
	srv.ConnContext = s.withPeer
	return s.serve(ctx, ln, srv)
}

// httpServer is an http.Server for h with the configured timeouts and
// limits.
func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadTimeout:       s.cfg.ReadTimeout,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// serve runs srv on ln and shuts it down gracefully, within
// ShutdownTimeout, when ctx is done.
func (s *Server) serve(ctx context.Context, ln net.Listener, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
