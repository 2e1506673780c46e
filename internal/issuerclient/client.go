package issuerclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultTimeout = 15 * time.Second
	// maxResponse bounds what is read of a response body.
	maxResponse = 4 << 20
)

// Config configures a Client.
type Config struct {
	// BaseURL is the issuer URL, e.g. http://127.0.0.1:8443. Required.
	BaseURL string
	// HTTPClient sends the requests; nil means one with DefaultTimeout
	// (set its Transport's TLSClientConfig for mTLS admins).
	HTTPClient *http.Client
	// AdminToken, when set, is sent as a bearer token on the admin routes
	// (/v1/agents, POST /v1/revocations).
	AdminToken string
	// AdminSocket, when set, is the path of the issuer's admin Unix socket:
	// the admin routes are called over it, where the issuer authorizes the
	// caller by its uid; other routes still go to BaseURL. It excludes
	// AdminToken.
	AdminSocket string
}

// Client calls one issuer. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	http  *http.Client
	admin string
	// adminHTTP, when set, carries the admin routes over the admin socket.
	adminHTTP *http.Client
}

// socketBase is the URL of requests sent over the admin socket: the
// transport dials the socket whatever the host says.
const socketBase = "http://aip-issuer-admin.sock"

// Error is a refusal from the issuer: an RFC 6749 error body, or the HTTP
// status when the body is not one.
type Error struct {
	Status      int
	Code        string // e.g. invalid_grant; empty when the body held none
	Description string
}

func (e *Error) Error() string {
	switch {
	case e.Code != "" && e.Description != "":
		return fmt.Sprintf("issuer refused (%d %s): %s", e.Status, e.Code, e.Description)
	case e.Code != "":
		return fmt.Sprintf("issuer refused (%d %s)", e.Status, e.Code)
	}
	return fmt.Sprintf("issuer refused (%d %s)", e.Status, http.StatusText(e.Status))
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("issuer url: %w", redactURLError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("issuer url %q: want http(s)://host[:port]", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("issuer url %q: no query, fragment or user info", u.Redacted())
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	c := &Client{base: u, http: hc, admin: cfg.AdminToken}
	if cfg.AdminSocket != "" {
		if cfg.AdminToken != "" {
			return nil, errors.New("issuer client: an admin token and an admin socket are exclusive")
		}
		c.adminHTTP = socketClient(cfg.AdminSocket)
	}
	return c, nil
}

// socketClient is an HTTP client whose every connection is to the Unix
// socket at path.
func socketClient(path string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		IdleConnTimeout: 30 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: DefaultTimeout}
}

// URL returns the issuer URL (no trailing slash).
func (c *Client) URL() string { return c.base.String() }

// endpoint returns the URL of path (which starts with /).
func (c *Client) endpoint(path string) string { return c.base.String() + path }

// request describes one call.
type request struct {
	method, path string
	admin        bool        // send the admin bearer token
	body         []byte      // nil: no body
	contentType  string      // of body
	header       http.Header // extra headers (DPoP)
}

// do sends r and returns the body of a 2xx response, or an *Error.
func (c *Client) do(ctx context.Context, r request) ([]byte, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	hc, target := c.http, c.endpoint(r.path)
	if r.admin && c.adminHTTP != nil {
		hc, target = c.adminHTTP, socketBase+r.path
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.admin && c.admin != "" {
		req.Header.Set("Authorization", "Bearer "+c.admin)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, redactURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", r.method, r.path, err)
	}
	if len(data) > maxResponse {
		return nil, fmt.Errorf("%s %s: response larger than %d bytes", r.method, r.path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, errorOf(resp.StatusCode, data))
	}
	return data, nil
}

// doJSON calls r and decodes a 2xx body into out.
func (c *Client) doJSON(ctx context.Context, r request, out any) error {
	data, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", r.method, r.path, err)
	}
	return nil
}

// errorOf reads an RFC 6749 error body; the description is kept only
// when it is short printable text.
func errorOf(status int, body []byte) *Error {
	e := &Error{Status: status}
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Description = printable(b.Error, 64), printable(b.Description, 512)
	}
	return e
}

func printable(s string, limit int) string {
	if len(s) > limit {
		return ""
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ""
		}
	}
	return s
}

// redactURLError keeps the cause of a transport error but not the
// *url.Error's method and URL, which the caller already names.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
