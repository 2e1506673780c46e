package server

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/token"
)

// token is POST /v1/token (RFC 8693).
//
// token_type in the response is "DPoP" when the AAT is bound to a DPoP key
// (cnf.jkt: the agent must send a proof with each use, RFC 9449 §5), and
// "Bearer" otherwise, including mTLS-bound tokens (cnf.x5t#S256, RFC 8705
// §3), whose binding is checked on the TLS connection.
func (s *Server) token(c echo.Context) error {
	res, err := s.exchange(c)
	if err != nil {
		oe := oauth.As(err)
		s.cfg.Metrics.refused.WithLabelValues(oe.Code, oe.Reason).Inc()
		return oe
	}
	s.cfg.Metrics.issued.WithLabelValues(res.Method).Inc()
	s.cfg.Logger.Info("aat issued", "request_id", requestID(c), "jti", res.JTI,
		"agent_id", res.AgentID, "user_id", res.UserID, "method", res.Method)
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, res.Response)
}

func (s *Server) exchange(c echo.Context) (*token.Result, error) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, oauth.New(oauth.InvalidRequest, "content_type", "the body must be application/x-www-form-urlencoded", nil)
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return nil, oauth.New(oauth.InvalidRequest, "bad_form", "the body is not a valid form", err)
	}
	if len(r.URL.RawQuery) > 0 {
		return nil, oauth.New(oauth.InvalidRequest, "query_parameters", "parameters must be sent in the body, not the query", nil)
	}
	req, err := token.ParseRequest(r.PostForm)
	if err != nil {
		return nil, err
	}
	dpopHeaders := r.Header.Values("DPoP")
	if len(dpopHeaders) > 1 {
		return nil, oauth.New(oauth.InvalidDPoPProof, "multiple_dpop", "at most one DPoP header", nil)
	}
	creds := token.Credentials{
		Method: r.Method,
		URL:    s.cfg.IssuerURL + "/v1/token",
	}
	if len(dpopHeaders) == 1 {
		creds.DPoP = strings.TrimSpace(dpopHeaders[0])
	}
	if r.TLS != nil {
		creds.PeerCertificates = r.TLS.PeerCertificates
	}
	return s.cfg.Exchanger.Exchange(r.Context(), req, creds, requestID(c))
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
