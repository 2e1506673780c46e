package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/signer"
)

// healthz: the process serves HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: the signer can give its current key and the stores answer.
func (s *Server) readyz(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.cfg.Signer.Current(ctx); err != nil {
		return oauth.Unavailable("signer_not_ready", err)
	}
	if hc, ok := s.cfg.Signer.(signer.HealthChecker); ok {
		if err := hc.Healthy(ctx); err != nil {
			return oauth.Unavailable("signer_not_ready", err)
		}
	}
	if _, err := s.cfg.Registry.Get(ctx, "readyz-probe"); err != nil && !errors.Is(err, registry.ErrNotFound) {
		return oauth.Unavailable("registry_not_ready", err)
	}
	if _, err := s.cfg.Revocations.Check(ctx, revocation.Subjects{AgentID: "readyz-probe"}); err != nil {
		return oauth.Unavailable("revocations_not_ready", err)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
