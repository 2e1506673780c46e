package server

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/token"
)

// bearerReasons are the reasons (logged with the request id, never in the
// uniform 401 body) a bearer ID token is refused for: none given, or one
// that does not verify.
type bearerReasons struct{ missing, bad string }

var (
	adminBearer = bearerReasons{missing: "no_admin_credential", bad: "bad_admin_token"}
	userBearer  = bearerReasons{missing: "no_user_token", bad: "bad_user_token"}
)

// bearerUser authenticates the caller by the OIDC ID token in its
// "Authorization: Bearer" header, verified by the admins' OIDC verifier.
// A missing or bad token is a 401, an identity provider that cannot be
// reached a 503.
func (s *Server) bearerUser(c echo.Context, why bearerReasons) (*token.User, error) {
	r := c.Request()
	raw, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || raw == "" || s.cfg.Admins.OIDC == nil {
		return nil, oauth.AuthError(oauth.InvalidToken, why.missing, nil)
	}
	u, err := s.cfg.Admins.OIDC.VerifySubject(r.Context(), token.TokenTypeIDToken, raw)
	switch {
	case errors.Is(err, token.ErrSubjectToken) || errors.Is(err, token.ErrUnknownIssuer):
		return nil, oauth.AuthError(oauth.InvalidToken, why.bad, err)
	case err != nil:
		return nil, oauth.Unavailable("idp_unavailable", err)
	}
	return u, nil
}
