package config

import (
	"os"
	"slices"
	"time"

	"github.com/aip-project/aip/internal/keypath"
)

// maxBindingTTL bounds sso.max_binding_ttl: a binding is a standing
// delegation, renewed by a person at least once a year.
const maxBindingTTL = 366 * 24 * time.Hour

// minStateKey is the least number of bytes in sso.state_key_file.
const minStateKey = 32

// SSOFile is the `sso:` section: the web flow through which a person binds
// an agent to themselves (/bind?agent=ID) and `aip login`.
type SSOFile struct {
	// Provider names an identity_providers entry: people log in there.
	Provider string `yaml:"provider"`
	// ClientID and the secret are the issuer's OAuth client at the IdP.
	ClientID         string `yaml:"client_id"`
	ClientSecret     string `yaml:"client_secret"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is <issuer_url>/bind/callback, registered at the IdP.
	RedirectURL string   `yaml:"redirect_url"`
	Scopes      []string `yaml:"scopes"`
	// DefaultBindingTTL is preselected on the consent page; MaxBindingTTL
	// bounds what a person may choose.
	DefaultBindingTTL string `yaml:"default_binding_ttl"`
	MaxBindingTTL     string `yaml:"max_binding_ttl"`
	// StateKeyFile holds at least 32 random bytes sealing the flow's
	// cookies; every replica needs the same file. Empty: a random key per
	// process (one replica only; a restart ends flows in progress).
	StateKeyFile string `yaml:"state_key_file"`
}

// SSO is the validated sso section.
type SSO struct {
	Provider          string // an IdentityProviders name
	IssuerURL         string // that provider's issuer
	ClientID          string
	ClientSecret      string
	RedirectURL       string
	Scopes            []string
	DefaultBindingTTL time.Duration
	MaxBindingTTL     time.Duration
	StateKey          []byte // nil: random per process
}

func applySSODefaults(f *File) {
	s := f.SSO
	if s == nil {
		return
	}
	if len(s.Scopes) == 0 {
		s.Scopes = []string{"openid", "email", "profile", "groups"}
	}
	if s.DefaultBindingTTL == "" {
		s.DefaultBindingTTL = "8h"
	}
	if s.MaxBindingTTL == "" {
		s.MaxBindingTTL = "720h"
	}
}

func validateSSO(p *keypath.Problems, s *SSOFile, idps []IdentityProvider) *SSO {
	if s == nil {
		return nil
	}
	out := &SSO{Provider: s.Provider, ClientID: s.ClientID, Scopes: s.Scopes}
	i := slices.IndexFunc(idps, func(idp IdentityProvider) bool { return idp.Name == s.Provider })
	switch {
	case s.Provider == "":
		p.Add("sso.provider", "is required (the name of an identity_providers entry)")
	case i < 0:
		p.Add("sso.provider", "names no identity_providers entry")
	default:
		out.IssuerURL = idps[i].IssuerURL
	}
	if s.ClientID == "" {
		p.Add("sso.client_id", "is required")
	}
	out.ClientSecret = secret(p, "sso", "client_secret", s.ClientSecret, s.ClientSecretFile)
	if out.ClientSecret == "" && s.ClientSecretFile == "" {
		p.Add("sso.client_secret", "is required (or client_secret_file)")
	}
	out.RedirectURL = checkURL(p, "sso.redirect_url", s.RedirectURL, true)
	if !slices.Contains(s.Scopes, "openid") {
		p.Add("sso.scopes", "must include openid")
	}
	out.DefaultBindingTTL = duration(p, "sso.default_binding_ttl", s.DefaultBindingTTL, maxBindingTTL)
	out.MaxBindingTTL = duration(p, "sso.max_binding_ttl", s.MaxBindingTTL, maxBindingTTL)
	if out.DefaultBindingTTL > out.MaxBindingTTL && out.MaxBindingTTL > 0 {
		p.Add("sso.default_binding_ttl", "must not exceed sso.max_binding_ttl")
	}
	if s.StateKeyFile != "" {
		b, err := os.ReadFile(s.StateKeyFile)
		switch {
		case err != nil:
			p.Add("sso.state_key_file", "cannot be read")
		case len(b) < minStateKey:
			p.Add("sso.state_key_file", "must hold at least %d random bytes (e.g. head -c 32 /dev/urandom > key)", minStateKey)
		default:
			out.StateKey = b
		}
	}
	return out
}
