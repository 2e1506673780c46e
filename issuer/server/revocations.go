package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/signer"
)

// RevocationListType is the JWS typ of the signed revocation list.
const RevocationListType = "revocation-list+jwt"

// RevocationList is the payload of the signed list served by GET
// /v1/revocations.
type RevocationList struct {
	Issuer      string                  `json:"iss"`
	IssuedAt    int64                   `json:"iat"`
	Version     string                  `json:"version"`
	Revocations []revocation.Revocation `json:"revocations"`
}

// revoke is POST /v1/revocations {kind, subject, reason, expires_at}.
func (s *Server) revoke(c echo.Context) error {
	var r revocation.Revocation
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return oauth.New(oauth.InvalidRequest, "bad_json", "the body must be a revocation JSON object", err)
	}
	r.RevokedAt = time.Time{} // the store's clock decides
	stored, err := s.recordRevocation(c, r)
	if err != nil {
		return err
	}
	if stored.Kind == revocation.KindUser {
		// Offboarding: the user's SSO bindings end with them.
		if _, err := s.endBindings(c, stored.Subject); err != nil {
			return err
		}
	}
	s.cfg.Logger.Info("revoked", "request_id", requestID(c), "kind", stored.Kind, "subject", stored.Subject, "admin", adminOf(c))
	return c.JSON(http.StatusCreated, stored)
}

// signedList caches the signed list of one version.
type signedList struct {
	mu      sync.Mutex
	version string
	body    []byte
	at      time.Time
}

// listRevocations is GET /v1/revocations: {"list": <compact JWS>} whose
// payload is a RevocationList, with ETag = the version; If-None-Match with
// the current version answers 304.
func (s *Server) listRevocations(c echo.Context) error {
	ctx := c.Request().Context()
	snap, err := s.cfg.Revocations.List(ctx)
	if err != nil {
		if errors.Is(err, revocation.ErrUnavailable) {
			return oauth.Unavailable("revocations_unavailable", err)
		}
		return oauth.Internal("revocations", err)
	}
	etag := `"` + snap.Version + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if matchETag(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	body, err := s.signList(ctx, snap)
	if err != nil {
		return signError(err)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

func (s *Server) signList(ctx context.Context, snap revocation.Snapshot) ([]byte, error) {
	sl := &s.lists
	sl.mu.Lock()
	defer sl.mu.Unlock()
	now := s.cfg.Now()
	// Re-sign at least every minute so iat stays fresh for pollers.
	if sl.version == snap.Version && now.Sub(sl.at) < time.Minute {
		return sl.body, nil
	}
	jws, err := jwk.SignJWS(ctx, s.cfg.Signer, RevocationListType, RevocationList{
		Issuer: s.cfg.IssuerURL, IssuedAt: now.Unix(), Version: snap.Version, Revocations: snap.Revocations,
	})
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]string{"list": jws})
	if err != nil {
		return nil, err
	}
	sl.version, sl.body, sl.at = snap.Version, body, now
	return body, nil
}

func matchETag(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func signError(err error) error {
	if errors.Is(err, signer.ErrUnavailable) {
		return oauth.Unavailable("signer_unavailable", err)
	}
	return oauth.Internal("sign_failed", err)
}
