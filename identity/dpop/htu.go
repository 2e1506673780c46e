package dpop

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// normalizeHTU returns the form of a URL that htu values are compared in
// (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3): scheme and host lowercased,
// default port dropped, empty path as "/", no query, fragment or userinfo.
func normalizeHTU(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("htu: %w", err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("htu: scheme %q: want https or http", u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return "", errors.New("htu: not an absolute URL")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}
