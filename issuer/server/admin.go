package server

import (
	"errors"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/aip-project/aip/issuer/oauth"
)

// adminKey is the echo.Context key holding the admin's identity.
const adminKey = "aip.admin"

// requireAdmin lets through an admin SPIFFE ID over mTLS or a bearer OIDC
// ID token with an admin group. Unauthenticated: 401 with the uniform
// message; authenticated but not an admin: 403.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := s.authenticateAdmin(c)
		if err != nil {
			return err
		}
		c.Set(adminKey, id)
		return next(c)
	}
}

func (s *Server) authenticateAdmin(c echo.Context) (string, error) {
	a := s.cfg.Admins
	r := c.Request()
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && a.X509Bundles != nil {
		id, _, err := x509svid.Verify(r.TLS.PeerCertificates, a.X509Bundles, x509svid.WithTime(s.cfg.Now()))
		if err != nil {
			return "", oauth.AuthError(oauth.InvalidToken, "bad_admin_certificate", err)
		}
		if !slices.Contains(a.SPIFFEIDs, id.String()) {
			return "", oauth.New(oauth.AccessDenied, "not_admin", "not an administrator", errors.New(id.String()))
		}
		return id.String(), nil
	}
	u, err := s.bearerUser(c, adminBearer)
	if err != nil {
		return "", err
	}
	for _, g := range u.Groups {
		if slices.Contains(a.Groups, g) {
			return u.ID, nil
		}
	}
	return "", oauth.New(oauth.AccessDenied, "not_admin", "not an administrator", errors.New(u.ID))
}

func adminOf(c echo.Context) string {
	id, _ := c.Get(adminKey).(string)
	return id
}
