package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// probeRoutes adds /healthz, /readyz and /metrics to mux: on the main
// listener, and alone on the health listener.
func (s *Server) probeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
}

// HealthHandler serves only /healthz, /readyz and /metrics: what the
// health listener (health_listen) exposes without mTLS. No MCP, no
// approvals, no validation: nothing there needs or reveals a token.
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	s.probeRoutes(mux)
	return mux
}

// startHealth listens on health_listen, when set, and serves
// HealthHandler in plain HTTP until the returned stop is called.
func (s *Server) startHealth(ctx context.Context) (stop func(), err error) {
	if s.cfg.HealthListen == "" {
		return func() {}, nil
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.HealthListen)
	if err != nil {
		return nil, fmt.Errorf("health_listen: %w", err)
	}
	hs := &http.Server{Handler: s.HealthHandler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("health listener stopped", "err", err)
		}
	}()
	s.log.Info("serving health and metrics", "health_listen", ln.Addr().String())
	return func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdown); err != nil {
			_ = hs.Close()
		}
		<-done
	}, nil
}
