package env

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// CIIssuer is a small OIDC issuer on loopback standing in for GitHub
// Actions and GitLab CI: it serves OIDC discovery and a JWKS and signs
// RS256 tokens (as both do) with GitHub- and GitLab-shaped claims. It
// exists because Dex, the tests' real OIDC provider, cannot mint tokens
// with arbitrary claims such as repository or project_path; the issuer's
// side of the exchange (discovery, JWKS fetch, signature, iss, aud, exp)
// runs exactly as against GitHub or GitLab.
type CIIssuer struct {
	URL string // the issuer, http://127.0.0.1:PORT
	// Now is the clock of iat, nbf and exp; nil means time.Now.
	Now   func() time.Time
	key   *rsa.PrivateKey
	kid   string
	other *rsa.PrivateKey // signs forged tokens under the same kid
}

// StartCIIssuer starts an issuer that stops when t ends.
func StartCIIssuer(t testing.TB) *CIIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := &CIIssuer{key: key, other: other, kid: "ci-test-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": c.URL, "jwks_uri": c.URL + "/.well-known/jwks",
			"subject_types_supported": []string{"public"}, "response_types_supported": []string{"id_token"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: c.kid, Algorithm: "RS256", Use: "sig"}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// Mint signs claims, adding iss, iat, nbf, a 5-minute exp and a random
// jti unless claims set them (a nil value removes the claim).
func (c *CIIssuer) Mint(t testing.TB, claims map[string]any) string {
	t.Helper()
	return c.sign(t, c.key, claims)
}

// Forge signs claims like Mint with a key the JWKS does not hold, under
// the published key id: a token whose signature must be refused.
func (c *CIIssuer) Forge(t testing.TB, claims map[string]any) string {
	t.Helper()
	return c.sign(t, c.other, claims)
}

func (c *CIIssuer) sign(t testing.TB, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	all := map[string]any{
		"iss": c.URL, "iat": now.Unix(), "nbf": now.Add(-5 * time.Second).Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "jti": strconv.FormatInt(now.UnixNano(), 36) + "-" + rand.Text(),
	}
	for k, v := range claims {
		if v == nil {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: c.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(all).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// GitHubClaims are the claims of a GitHub Actions OIDC token for a push
// to main of owner/repo (ids are strings, as GitHub sends them).
func GitHubClaims(audience, owner, repo string) map[string]any {
	r := owner + "/" + repo
	return map[string]any{
		"aud": audience, "sub": "repo:" + r + ":ref:refs/heads/main",
		"repository": r, "repository_id": "690000001", "repository_owner": owner, "repository_owner_id": "4200001",
		"repository_visibility": "private", "ref": "refs/heads/main", "ref_type": "branch", "ref_protected": "true",
		"sha": "2f1c0b6e9a4b7d1f3e5c8a0b2d4f6e8a1c3b5d7f", "actor": "octocat", "actor_id": "583231",
		"workflow": "deploy", "workflow_ref": r + "/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_ref": r + "/.github/workflows/deploy.yml@refs/heads/main",
		"event_name":       "push", "run_id": "9000000001", "run_number": "42", "run_attempt": "1", "runner_environment": "github-hosted",
	}
}

// GitLabClaims are the claims of a GitLab CI id_token for a pipeline on
// the protected branch main of namespace/project.
func GitLabClaims(audience, namespace, project string) map[string]any {
	p := namespace + "/" + project
	return map[string]any{
		"aud": audience, "sub": "project_path:" + p + ":ref_type:branch:ref:main",
		"namespace_id": "7200001", "namespace_path": namespace, "project_id": "3300001", "project_path": p,
		"user_id": "17", "user_login": "alice", "pipeline_id": "880001", "pipeline_source": "push",
		"job_id": "5500001", "ref": "main", "ref_type": "branch", "ref_path": "refs/heads/main", "ref_protected": "true",
		"runner_id": "12", "runner_environment": "gitlab-hosted", "sha": "2f1c0b6e9a4b7d1f3e5c8a0b2d4f6e8a1c3b5d7f",
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
