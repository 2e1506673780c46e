package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/oauth"
)

// bindingRoutes are the admin APIs over bindings:
//
//	GET    /v1/bindings?user=U&agent=A  {"bindings": [...]}
//	DELETE /v1/bindings/:id             the revoked binding
//	DELETE /v1/bindings?user=U          {"bindings": [every revoked one]}
func (s *Server) bindingRoutes(g *echo.Group) {
	g.GET("/v1/bindings", s.listBindings)
	g.DELETE("/v1/bindings/:id", s.revokeBinding)
	g.DELETE("/v1/bindings", s.revokeUserBindings)
}

// BindingList is the body of the list and revoke-user responses.
type BindingList struct {
	Bindings []binding.Binding `json:"bindings"`
}

func (s *Server) listBindings(c echo.Context) error {
	if s.cfg.Bindings == nil {
		return errNoBindings
	}
	bs, err := s.cfg.Bindings.List(c.Request().Context(), binding.Filter{User: c.QueryParam("user"), Agent: c.QueryParam("agent")})
	if err != nil {
		return oauth.Unavailable("bindings_unavailable", err)
	}
	return c.JSON(http.StatusOK, BindingList{Bindings: bs})
}

func (s *Server) revokeBinding(c echo.Context) error {
	if s.cfg.Bindings == nil {
		return errNoBindings
	}
	b, err := s.cfg.Bindings.Revoke(c.Request().Context(), c.Param("id"))
	switch {
	case errors.Is(err, binding.ErrNotFound):
		return oauth.New(oauth.NotFound, "binding_not_found", "no such binding", err)
	case err != nil:
		return oauth.Unavailable("bindings_unavailable", err)
	}
	if err := s.auditBinding(c, audit.Revoke, "binding revoked", b); err != nil {
		return oauth.Internal("audit_failed", err)
	}
	s.cfg.Logger.Info("binding revoked", "request_id", requestID(c), "binding", b.ID, "admin", adminOf(c))
	return c.JSON(http.StatusOK, b)
}

func (s *Server) revokeUserBindings(c echo.Context) error {
	if s.cfg.Bindings == nil {
		return errNoBindings
	}
	user := c.QueryParam("user")
	if user == "" {
		return oauth.New(oauth.InvalidRequest, "missing_user", "user is required", nil)
	}
	bs, err := s.endBindings(c, user)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, BindingList{Bindings: bs})
}

// endBindings revokes every binding of user at once and audits each; a
// user revocation calls it too (offboarding).
func (s *Server) endBindings(c echo.Context, user string) ([]binding.Binding, error) {
	if s.cfg.Bindings == nil {
		return nil, nil
	}
	bs, err := s.cfg.Bindings.RevokeUser(c.Request().Context(), user)
	if err != nil {
		return nil, oauth.Unavailable("bindings_unavailable", err)
	}
	for i := range bs {
		if err := s.auditBinding(c, audit.Revoke, "binding revoked", &bs[i]); err != nil {
			return nil, oauth.Internal("audit_failed", err)
		}
	}
	s.cfg.Logger.Info("bindings of user revoked", "request_id", requestID(c), "user", user, "count", len(bs), "admin", adminOf(c))
	return bs, nil
}

var errNoBindings = oauth.New(oauth.NotFound, "bindings_disabled", "sso bindings are not enabled on this issuer", nil)
