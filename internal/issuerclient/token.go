package issuerclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer/token"
)

// TokenRequest is an RFC 8693 token exchange for an AAT.
type TokenRequest struct {
	SubjectToken     string
	SubjectTokenType string   // token.TokenTypeIDToken or token.TokenTypeLocalUser
	ActorToken       string   // a JWT-SVID (audience = the issuer); empty for DPoP
	Audience         []string // the MCP server(s)
	Scope            []string // optional narrowing of tools
	// DPoPKey, when set, proves possession of the agent's native key with a
	// DPoP proof (RFC 9449) on the request.
	DPoPKey *dpop.Key
	// DPoPNow is the proof's clock; nil means time.Now.
	DPoPNow func() time.Time
}

// TokenResponse is the RFC 8693 response.
type TokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
}

// Exchange posts r to /v1/token.
func (c *Client) Exchange(ctx context.Context, r TokenRequest) (*TokenResponse, error) {
	f := url.Values{"grant_type": {token.GrantTypeTokenExchange}, "audience": r.Audience}
	// No subject: the agent's SSO binding (token.TokenTypeBinding).
	if r.SubjectToken != "" || r.SubjectTokenType != "" {
		f.Set("subject_token", r.SubjectToken)
		f.Set("subject_token_type", r.SubjectTokenType)
	}
	if r.ActorToken != "" {
		f.Set("actor_token", r.ActorToken)
		f.Set("actor_token_type", token.TokenTypeJWT)
	}
	if len(r.Scope) > 0 {
		f.Set("scope", strings.Join(r.Scope, " "))
	}
	req := request{method: http.MethodPost, path: "/v1/token", body: []byte(f.Encode()),
		contentType: "application/x-www-form-urlencoded"}
	if r.DPoPKey != nil {
		p, err := dpop.Proof(r.DPoPKey, dpop.Options{Method: http.MethodPost, URL: c.endpoint("/v1/token"), Now: r.DPoPNow})
		if err != nil {
			return nil, fmt.Errorf("token exchange: %w", err)
		}
		req.header = http.Header{"Dpop": {p}}
	}
	var out TokenResponse
	if err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, fmt.Errorf("token exchange: the issuer returned no access_token")
	}
	return &out, nil
}
