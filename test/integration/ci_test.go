package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
)

// A GitHub-shaped CI token exchanged for an AAT bound to the job's key,
// then used at a real enforcer: its tools pass, others do not, and only
// the job's key can use it.
func TestCITokenAtEnforcer(t *testing.T) {
	ci := env.StartCIIssuer(t)
	mcpURL := env.MCPServerHTTP(t)
	issuerURL, is := issuertest.Start(t, issuertest.Options{LocalUser: sidecarUser, ExtraFor: func(u string) string {
		return fmt.Sprintf(`ci_trust:
  - {name: octo, issuer: %q, audience: %q, agent: ci-bot, capabilities: [echo],
     conditions: {repository_owner_id: 4200001, ref: refs/heads/main}}
`, ci.URL, u)
	}})
	issuertest.RegisterNativeAgent(t, is, sidecarUser, "ci-bot", "echo", "get-sum")
	sidecarURL := startSidecar(t, issuerURL, mcpURL, "", "", "")

	job, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := issuerclient.New(issuerclient.Config{BaseURL: issuerURL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Exchange(context.Background(), issuerclient.TokenRequest{
		SubjectToken: ci.Mint(t, env.GitHubClaims(issuerURL, "octo-org", "app")), SubjectTokenType: token.TokenTypeJWT,
		Audience: []string{sidecarAudience}, DPoPKey: job,
	})
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}

	validate := func(k *dpop.Key, body string) int {
		t.Helper()
		p, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: sidecarURL + "/v1/validate", AccessToken: res.AccessToken, Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, sidecarURL+"/v1/validate", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "DPoP "+res.AccessToken)
		req.Header.Set("DPoP", p)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	other, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		key  *dpop.Key
		body string
		want int
	}{
		{"tool of the policy", job, `{"tool":"echo","arguments":{"message":"hi"}}`, http.StatusOK},
		{"tool outside the AAT", job, `{"tool":"get-sum","arguments":{"a":1,"b":2}}`, http.StatusForbidden},
		{"another key", other, `{"tool":"echo","arguments":{"message":"hi"}}`, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := validate(tt.key, tt.body); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
}
