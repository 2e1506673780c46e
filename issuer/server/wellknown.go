package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/issuer/token"
)

// jwks is GET /.well-known/jwks.json: every published key, current first.
func (s *Server) jwks(c echo.Context) error {
	set, err := signer.JWKS(c.Request().Context(), s.cfg.Signer)
	if err != nil {
		if errors.Is(err, signer.ErrUnavailable) {
			return oauth.Unavailable("signer_unavailable", err)
		}
		return oauth.Internal("jwks", err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, set)
}

// Metadata is the RFC 8414 authorization server metadata.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	DPoPSigningAlgValuesSupported     []string `json:"dpop_signing_alg_values_supported"`
	TLSClientCertBoundAccessTokens    bool     `json:"tls_client_certificate_bound_access_tokens"`
	RevocationListEndpoint            string   `json:"aip_revocation_list_endpoint"`
	AgentRegistryEndpoint             string   `json:"aip_agent_registry_endpoint"`
	SubjectTokenTypesSupported        []string `json:"aip_subject_token_types_supported"`
	ActorTokenTypesSupported          []string `json:"aip_actor_token_types_supported"`
}

// metadata is GET /.well-known/oauth-authorization-server.
func (s *Server) metadata(c echo.Context) error {
	base := s.cfg.IssuerURL
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, Metadata{
		Issuer:                            base,
		TokenEndpoint:                     base + "/v1/token",
		JWKSURI:                           base + "/.well-known/jwks.json",
		GrantTypesSupported:               []string{token.GrantTypeTokenExchange},
		TokenEndpointAuthMethodsSupported: []string{"none", "self_signed_tls_client_auth", "tls_client_auth"},
		DPoPSigningAlgValuesSupported:     []string{signer.EdDSA, signer.ES256},
		TLSClientCertBoundAccessTokens:    true,
		RevocationListEndpoint:            base + "/v1/revocations",
		AgentRegistryEndpoint:             base + "/v1/agents",
		SubjectTokenTypesSupported:        []string{token.TokenTypeIDToken},
		ActorTokenTypesSupported:          []string{token.TokenTypeJWT},
	})
}
