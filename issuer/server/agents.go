package server

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
)

// createAgent is POST /v1/agents with a registry.Agent JSON body.
func (s *Server) createAgent(c echo.Context) error {
	var a registry.Agent
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return oauth.New(oauth.InvalidRequest, "bad_json", "the body must be an agent JSON object", err)
	}
	created, err := s.cfg.Registry.Create(c.Request().Context(), a)
	if err != nil {
		return registryError(err)
	}
	s.cfg.Logger.Info("agent registered", "request_id", requestID(c), "agent_id", created.ID, "admin", adminOf(c))
	return c.JSON(http.StatusCreated, created)
}

func (s *Server) listAgents(c echo.Context) error {
	l, err := s.cfg.Registry.List(c.Request().Context())
	if err != nil {
		return registryError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"agents": l})
}

func (s *Server) getAgent(c echo.Context) error {
	a, err := s.cfg.Registry.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return registryError(err)
	}
	return c.JSON(http.StatusOK, a)
}

// getAID is GET /v1/agents/{id}/aid: the signed Agent Identity Document.
func (s *Server) getAID(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.cfg.Registry.Get(ctx, c.Param("id"))
	if err != nil {
		return registryError(err)
	}
	doc, err := registry.SignAID(ctx, s.cfg.Signer, a, s.cfg.Now(), s.cfg.AIDTTL)
	if err != nil {
		return signError(err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc)
}

// setStatus suspends, reactivates or revokes an agent. Revoking also
// records an agent revocation, so enforcers drop its live tokens.
func (s *Server) setStatus(to registry.Status) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id := c.Param("id")
		a, err := s.cfg.Registry.UpdateStatus(ctx, id, to)
		if err != nil {
			return registryError(err)
		}
		if to == registry.StatusRevoked {
			r := revocation.Revocation{Kind: revocation.KindAgent, Subject: id, Reason: "agent revoked in the registry"}
			if _, err := s.recordRevocation(c, r); err != nil {
				return err
			}
		}
		s.cfg.Logger.Info("agent status changed", "request_id", requestID(c), "agent_id", id, "status", to, "admin", adminOf(c))
		return c.JSON(http.StatusOK, a)
	}
}

// recordRevocation stores r and audits it, and returns the record as
// stored; an unaudited revocation is still in force (failing closed means
// revoking), but the failure is an error.
func (s *Server) recordRevocation(c echo.Context, r revocation.Revocation) (revocation.Revocation, error) {
	r, err := s.cfg.Revocations.Revoke(c.Request().Context(), r)
	if err != nil {
		switch {
		case errors.Is(err, revocation.ErrInvalid):
			return r, oauth.New(oauth.InvalidRequest, "bad_revocation", err.Error(), err)
		case errors.Is(err, revocation.ErrUnavailable):
			return r, oauth.Unavailable("revocations_unavailable", err)
		}
		return r, oauth.Internal("revoke", err)
	}
	rec := audit.Record{Decision: audit.Revoke, RequestID: requestID(c), Issuer: s.cfg.IssuerURL,
		Reason: string(r.Kind) + ": " + r.Reason + " (by " + adminOf(c) + ")"}
	switch r.Kind {
	case revocation.KindAgent:
		rec.AgentID = r.Subject
	case revocation.KindUser:
		rec.UserID = r.Subject
	case revocation.KindSession:
		rec.SessionID = r.Subject
	case revocation.KindJTI:
		rec.AATJTI = r.Subject
	}
	if _, err := s.cfg.Audit.Append(rec); err != nil {
		return r, oauth.Internal("audit_failed", err)
	}
	return r, nil
}

func registryError(err error) error {
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return oauth.New(oauth.NotFound, "agent_not_found", "no such agent", err)
	case errors.Is(err, registry.ErrInvalid):
		return oauth.New(oauth.InvalidRequest, "bad_agent", err.Error(), err)
	case errors.Is(err, registry.ErrExists), errors.Is(err, registry.ErrRevoked):
		e := oauth.New(oauth.InvalidRequest, "conflict", err.Error(), err)
		e.Status = http.StatusConflict
		return e
	case errors.Is(err, registry.ErrUnavailable):
		return oauth.Unavailable("registry_unavailable", err)
	}
	return oauth.Internal("registry", err)
}
