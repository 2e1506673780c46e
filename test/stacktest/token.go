package stacktest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer/token"
)

// TokenRequest is a token exchange (RFC 8693) an agent makes at the
// issuer's /v1/token.
type TokenRequest struct {
	SubjectToken, SubjectTokenType string
	ActorToken, ActorTokenType     string // empty: no actor token
	Audience                       string
	// DPoP, when set, is the agent's key: the request carries its proof,
	// made on the clock Now (nil: time.Now). Without it the agent's only
	// credential is its client certificate, if any (RFC 8705 §2).
	DPoP *dpop.Key
	Now  func() time.Time
}

// TokenAnswer is the issuer's answer to a token request.
type TokenAnswer struct {
	Status           int
	Body             map[string]any // the whole JSON answer
	AccessToken      string
	Error            string
	ErrorDescription string
}

// Exchange sends r to the issuer at issuerURL with c and reads the
// answer, which must be JSON.
func Exchange(t testing.TB, c *http.Client, issuerURL string, r TokenRequest) TokenAnswer {
	t.Helper()
	f := url.Values{
		"grant_type":         {token.GrantTypeTokenExchange},
		"subject_token":      {r.SubjectToken},
		"subject_token_type": {r.SubjectTokenType},
		"audience":           {r.Audience},
	}
	if r.ActorToken != "" {
		f.Set("actor_token", r.ActorToken)
		f.Set("actor_token_type", r.ActorTokenType)
	}
	req, err := http.NewRequest(http.MethodPost, issuerURL+"/v1/token", strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.DPoP != nil {
		proof, err := dpop.Proof(r.DPoP, dpop.Options{Method: http.MethodPost, URL: issuerURL + "/v1/token", Now: r.Now})
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("DPoP", proof)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	a := TokenAnswer{Status: resp.StatusCode}
	a.Body = DecodeJSON(t, resp)
	a.AccessToken, _ = a.Body["access_token"].(string)
	a.Error, _ = a.Body["error"].(string)
	a.ErrorDescription, _ = a.Body["error_description"].(string)
	return a
}

// DecodeJSON reads resp's body, which must be a JSON object, and closes
// it.
func DecodeJSON(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%d: not JSON: %.300s", resp.StatusCode, b)
	}
	return m
}

// VerifyAAT checks raw against the JWKS the issuer at issuerURL publishes
// now (fetched with c; nil: a default client) on the clock now (nil:
// time.Now), as an enforcer for audience does, and returns its claims.
func VerifyAAT(c *http.Client, issuerURL, audience, raw string, now func() time.Time) (*aat.Claims, error) {
	keys, err := aat.NewJWKSSource(aat.JWKSConfig{URL: issuerURL + "/.well-known/jwks.json", Client: c, Now: now})
	if err != nil {
		return nil, err
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{issuerURL: keys}, Audience: audience, Now: now})
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), raw)
}

// OffsetClock is a clock at an offset from time.Now a test sets: the
// issuer's or an agent's, moved forward or back.
type OffsetClock struct{ off atomic.Int64 }

// Now is time.Now plus the offset.
func (c *OffsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// Set sets the offset to d.
func (c *OffsetClock) Set(d time.Duration) { c.off.Store(int64(d)) }

// Advance moves the clock forward by d.
func (c *OffsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }
