package issuer_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
)

// BenchmarkIssue measures a whole token exchange through the HTTP handler
// with the local key: DPoP proof check, registry, revocations, mint.
func BenchmarkIssue(b *testing.B) {
	dir := b.TempDir()
	cfg, err := config.Parse(fmt.Appendf(nil, `
issuer_url: "http://127.0.0.1:8443"
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
audit: {path: %q}
local_user: {enabled: true, user_id: bench-user}
`, filepath.Join(dir, "key.pem"), filepath.Join(dir, "store"), filepath.Join(dir, "audit.jsonl")))
	if err != nil {
		b.Fatal(err)
	}
	is, err := issuer.New(context.Background(), cfg, issuer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer is.Close()
	key, err := dpop.NewKey("")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := is.Registry().Create(context.Background(), registry.Agent{ID: "bench", PublicKey: &jose.JSONWebKey{Key: key.Public()},
		Capabilities: []string{"read_file"}, AllowedUsers: []string{"bench-user"}}); err != nil {
		b.Fatal(err)
	}
	body := url.Values{
		"grant_type": {token.GrantTypeTokenExchange}, "subject_token": {"bench-user"},
		"subject_token_type": {token.TokenTypeLocalUser}, "audience": {"https://mcp.test"},
	}.Encode()
	h := is.Server.Handler()
	b.ResetTimer()
	for b.Loop() {
		p, err := dpop.Proof(key, dpop.Options{Method: http.MethodPost, URL: cfg.IssuerURL + "/v1/token"})
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, cfg.IssuerURL+"/v1/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", p)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("exchange: %d %s", rec.Code, rec.Body)
		}
	}
}
