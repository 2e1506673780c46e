package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/config"
)

func TestSSO(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "state.key")
	short := filepath.Join(dir, "short.key")
	secret := filepath.Join(dir, "secret")
	for path, data := range map[string]string{key: strings.Repeat("k", 32), short: "k", secret: "s3cret\n"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := minimal + "sso: {provider: dex, client_id: aip-bind, client_secret_file: " + secret +
		", redirect_url: 'https://issuer.example.org/bind/callback', state_key_file: " + key + "}\n"
	cfg, err := config.Parse([]byte(good))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s := cfg.SSO
	if s.IssuerURL != "https://dex.example.org" || s.ClientSecret != "s3cret" || len(s.StateKey) != 32 ||
		s.DefaultBindingTTL != 8*time.Hour || s.MaxBindingTTL != 720*time.Hour || !slices.Contains(s.Scopes, "groups") {
		t.Errorf("sso = %+v", s)
	}
	if cfg, err := config.Parse([]byte(minimal)); err != nil || cfg.SSO != nil {
		t.Errorf("no sso section: %v, %+v", err, cfg)
	}

	tests := []struct {
		name string
		sso  string
		want []string
	}{
		{"unknown provider", "{provider: okta, client_id: c, client_secret: s, redirect_url: 'https://i/cb'}", []string{"sso.provider: names no"}},
		{"missing everything", "{}", []string{"sso.provider:", "sso.client_id:", "sso.client_secret:", "sso.redirect_url:"}},
		{"both secrets", "{provider: dex, client_id: c, client_secret: s, client_secret_file: " + secret + ", redirect_url: 'https://i/cb'}", []string{"sso.client_secret: set client_secret or"}},
		{"plain http off loopback", "{provider: dex, client_id: c, client_secret: s, redirect_url: 'http://i.example.org/cb'}", []string{"sso.redirect_url: must be https"}},
		{"ttls", "{provider: dex, client_id: c, client_secret: s, redirect_url: 'https://i/cb', default_binding_ttl: 48h, max_binding_ttl: 24h}", []string{"sso.default_binding_ttl: must not exceed"}},
		{"ttl too long", "{provider: dex, client_id: c, client_secret: s, redirect_url: 'https://i/cb', max_binding_ttl: 10000h}", []string{"sso.max_binding_ttl: must be a duration"}},
		{"no openid", "{provider: dex, client_id: c, client_secret: s, redirect_url: 'https://i/cb', scopes: [email]}", []string{"sso.scopes: must include openid"}},
		{"short key", "{provider: dex, client_id: c, client_secret: s, redirect_url: 'https://i/cb', state_key_file: " + short + "}", []string{"sso.state_key_file: must hold"}},
		{"unknown key", "{provider: dex, client_id: c, client_secret: s, redirect_url: 'https://i/cb', clientid: x}", []string{"sso.clientid: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(minimal + "sso: " + tt.sso + "\n"))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Parse = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Error("the error shows the secret")
			}
		})
	}
}
