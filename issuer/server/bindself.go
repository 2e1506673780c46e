package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/oauth"
)

// selfRoutes let a person manage their own bindings with their own OIDC
// ID token (bearer), no admin right needed:
//
//	GET    /v1/me/bindings      {"bindings": [...]}
//	DELETE /v1/me/bindings/:id  the revoked binding
func (s *Server) selfRoutes(e *echo.Echo) {
	e.GET("/v1/me/bindings", s.listOwnBindings)
	e.DELETE("/v1/me/bindings/:id", s.revokeOwnBinding)
}

func (s *Server) listOwnBindings(c echo.Context) error {
	u, err := s.bearerUser(c, userBearer)
	if err != nil {
		return err
	}
	bs, err := s.cfg.Bindings.List(c.Request().Context(), binding.Filter{User: u.ID})
	if err != nil {
		return oauth.Unavailable("bindings_unavailable", err)
	}
	return c.JSON(http.StatusOK, BindingList{Bindings: bs})
}

func (s *Server) revokeOwnBinding(c echo.Context) error {
	u, err := s.bearerUser(c, userBearer)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	notFound := oauth.New(oauth.NotFound, "binding_not_found", "no such binding", nil)
	b, err := s.cfg.Bindings.Get(ctx, c.Param("id"))
	switch {
	case errors.Is(err, binding.ErrNotFound):
		return notFound
	case err != nil:
		return oauth.Unavailable("bindings_unavailable", err)
	case b.User != u.ID:
		return notFound // another person's binding is not even said to exist
	}
	if b, err = s.cfg.Bindings.Revoke(ctx, b.ID); errors.Is(err, binding.ErrNotFound) {
		return notFound
	} else if err != nil {
		return oauth.Unavailable("bindings_unavailable", err)
	}
	c.Set(adminKey, "self")
	if err := s.auditBinding(c, audit.Revoke, "binding revoked", b); err != nil {
		return oauth.Internal("audit_failed", err)
	}
	s.cfg.Logger.Info("binding revoked by its user", "request_id", requestID(c), "binding", b.ID)
	return c.JSON(http.StatusOK, b)
}
