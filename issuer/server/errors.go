package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/issuer/oauth"
)

// errorBody is the RFC 6749 §5.2 error response.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// handleError is the one place errors become HTTP responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	oe := s.toOAuth(err)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	level := s.cfg.Logger.Info
	if oe.Status >= 500 {
		level = s.cfg.Logger.Error
	}
	level("request refused", "request_id", rid, "route", c.Path(), "status", oe.Status,
		"error", oe.Code, "reason", oe.Reason, "cause", causeOf(oe))
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	if oe.Status == http.StatusUnauthorized && oe.Code == oauth.InvalidToken {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	if oe.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(oe.Status)
	} else {
		werr = c.JSON(oe.Status, errorBody{Error: oe.Code, Description: oe.Description})
	}
	if werr != nil {
		s.cfg.Logger.Warn("write error response", "request_id", rid, "err", werr)
	}
}

// toOAuth maps Echo's own errors (404, 405, 413, timeouts) and ours.
func (s *Server) toOAuth(err error) *oauth.Error {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		return oe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return oauth.New(oauth.NotFound, "no_route", "not found", nil)
		case http.StatusMethodNotAllowed:
			e := oauth.New(oauth.InvalidRequest, "method_not_allowed", "method not allowed", nil)
			e.Status = http.StatusMethodNotAllowed
			return e
		case http.StatusRequestEntityTooLarge:
			e := oauth.New(oauth.InvalidRequest, "body_too_large", "request body too large", nil)
			e.Status = http.StatusRequestEntityTooLarge
			return e
		case http.StatusServiceUnavailable:
			return oauth.Unavailable("timeout", he)
		}
		if he.Code >= 400 && he.Code < 500 {
			e := oauth.New(oauth.InvalidRequest, "http_"+strconv.Itoa(he.Code), http.StatusText(he.Code), he)
			e.Status = he.Code
			return e
		}
	}
	return oauth.Internal("internal", err)
}

func causeOf(e *oauth.Error) string {
	if e.Err == nil {
		return ""
	}
	return fmt.Sprint(e.Err)
}

// recoverPanics turns a handler panic into a 500 through handleError.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = oauth.Internal("panic", fmt.Errorf("panic: %v", r))
			}
		}()
		return next(c)
	}
}

// countRequests counts requests by route pattern (bounded) and status.
func (s *Server) countRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status = s.toOAuth(err).Status
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.cfg.Metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		return err
	}
}
