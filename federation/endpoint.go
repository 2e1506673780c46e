package federation

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/federation"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Endpoint serves a trust domain's bundle over HTTPS (go-spiffe's
// federation handler) at every path.
type Endpoint struct {
	srv *http.Server
	log *slog.Logger
}

// NewEndpoint returns an endpoint serving source's bundle of td with
// tlsConfig: the server's X509-SVID for https_spiffe, a Web PKI
// certificate for https_web.
func NewEndpoint(td spiffeid.TrustDomain, source spiffebundle.Source, tlsConfig *tls.Config, log *slog.Logger) (*Endpoint, error) {
	if tlsConfig == nil {
		return nil, errors.New("bundle endpoint: tls configuration is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h, err := federation.NewHandler(td, source, federation.WithLogger(slogAdapter{log}))
	if err != nil {
		return nil, fmt.Errorf("bundle endpoint: %w", err)
	}
	return &Endpoint{log: log, srv: &http.Server{
		Handler: h, TLSConfig: tlsConfig, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}}, nil
}

// Serve serves on ln until ctx is done, then shuts down.
func (e *Endpoint) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- e.srv.ServeTLS(ln, "", "") }()
	e.log.Info("bundle endpoint listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("bundle endpoint: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// slogAdapter is go-spiffe's logger.Logger over slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debugf(format string, args ...any) { a.l.Debug(fmt.Sprintf(format, args...)) }
func (a slogAdapter) Infof(format string, args ...any)  { a.l.Info(fmt.Sprintf(format, args...)) }
func (a slogAdapter) Warnf(format string, args ...any)  { a.l.Warn(fmt.Sprintf(format, args...)) }
func (a slogAdapter) Errorf(format string, args ...any) { a.l.Error(fmt.Sprintf(format, args...)) }
