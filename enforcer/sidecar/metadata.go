package sidecar

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/aip-project/aip/identity/jwk"
)

const metadataPath = "/.well-known/oauth-protected-resource"

// mcpPath is where the MCP endpoint is served: the upstream URL's path
// (/mcp by default), so clients use the same path as without the sidecar.
func (s *Server) mcpPath() string {
	u, err := url.Parse(s.cfg.UpstreamURL)
	if err != nil || u.Path == "" || u.Path == "/" {
		return "/mcp"
	}
	return u.Path
}

// metadataURL is the RFC 9728 metadata URL named in WWW-Authenticate.
func (s *Server) metadataURL() string { return s.cfg.PublicURL + metadataPath + s.mcpPath() }

// challenge is what WWW-Authenticate says on a 401.
func (s *Server) challenge() challenge {
	return challenge{metadataURL: s.metadataURL(), dpop: s.cfg.RequireProof}
}

// serveMetadata serves the OAuth 2.0 Protected Resource Metadata (RFC
// 9728): the resource, its trusted issuers and the token forms it takes.
func (s *Server) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	issuers := make([]string, 0, len(s.cfg.Issuers))
	for _, is := range s.cfg.Issuers {
		issuers = append(issuers, is.Issuer)
	}
	md := map[string]any{
		"resource":                          s.cfg.PublicURL + s.mcpPath(),
		"authorization_servers":             issuers,
		"bearer_methods_supported":          []string{"header"},
		"dpop_signing_alg_values_supported": []string{jwk.EdDSA, jwk.ES256},
		"dpop_bound_access_tokens_required": s.cfg.RequireProof,
		"aip_audience":                      s.cfg.Audience,
	}
	if s.cfg.TLS.Mode == TLSModeSPIFFE {
		md["tls_client_certificate_bound_access_tokens"] = true
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	_ = json.NewEncoder(w).Encode(md)
}

// serveReady answers 200 when calls can be decided: revocations in sync
// and the shared store reachable.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.child != nil {
		if err := s.child.alive(); err != nil {
			s.log.Warn("not ready", "err", err)
			http.Error(w, "not ready: the MCP server process has exited", http.StatusServiceUnavailable)
			return
		}
	}
	if err := s.stores.ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		http.Error(w, "not ready: revocations or the shared store unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
