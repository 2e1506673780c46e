package server

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed bindpages
var bindFS embed.FS

var bindTemplates = template.Must(template.ParseFS(bindFS, "bindpages/*.html"))

// bindHeaders are the security headers of every bind page: no script, no
// framing, no sniffing, no referrer (the callback URL holds the code).
func bindHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

func bindStyle(c echo.Context) error {
	css, err := bindFS.ReadFile("bindpages/style.css")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
}

// page renders template name with data.
func page(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := bindTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorPage tells a person, in a page, why the flow stopped. Details stay
// in the server log under the request id.
func (s *Server) errorPage(c echo.Context, status int, title, message string, cause error) error {
	rid := requestID(c)
	s.cfg.Logger.Info("bind refused", "request_id", rid, "route", c.Path(), "status", status, "reason", title, "cause", cause)
	return page(c, status, "error.html", map[string]string{"Title": title, "Message": message, "RequestID": rid})
}
