package issuer

import (
	"slices"

	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/server"
	"github.com/aip-project/aip/issuer/token"
)

// ssoConfig is the bind flow's configuration, or nil without an sso
// section.
func ssoConfig(cfg *config.Config) *server.SSO {
	s := cfg.SSO
	if s == nil {
		return nil
	}
	i := slices.IndexFunc(cfg.IdentityProviders, func(p config.IdentityProvider) bool { return p.Name == s.Provider })
	p := cfg.IdentityProviders[i] // validated: the provider exists
	return &server.SSO{
		Provider: token.IdentityProvider{Name: p.Name, IssuerURL: p.IssuerURL,
			UserIDClaim: p.Claims.UserID, EmailClaim: p.Claims.Email, GroupsClaim: p.Claims.Groups},
		ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURL: s.RedirectURL, Scopes: s.Scopes,
		DefaultTTL: s.DefaultBindingTTL, MaxTTL: s.MaxBindingTTL, StateKey: s.StateKey,
	}
}
