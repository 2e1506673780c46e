package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/issuer/token"
)

type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	Scope           string `json:"scope"`
	Error           string `json:"error"`
	Description     string `json:"error_description"`
}

var alice = map[string]any{"sub": "alice", "email": "alice@example.com", "groups": []string{"eng"}}

func TestTokenExchange(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	sleepyKey := h.register(t, "sleepy", registry.StatusSuspended)
	strangerKey, _ := newKey(t)
	if _, err := h.revs.Revoke(context.Background(), revocation.Revocation{Kind: revocation.KindUser, Subject: "mallory"}); err != nil {
		t.Fatal(err)
	}
	other := newIDP(t, "https://other-idp.test")
	tokenURL := issuerURL + "/v1/token"

	tests := []struct {
		name       string
		edit       func(f url.Values)
		dpop       string // "" = a good proof by bot; "-" = none
		ctype      string
		wantStatus int
		wantError  string
		wantScope  string
	}{
		{name: "issued", wantStatus: 200, wantScope: "read_file search write_file"},
		{name: "capability narrowing", edit: func(f url.Values) { f.Set("scope", "read_file delete_everything") }, wantStatus: 200, wantScope: "read_file"},
		{name: "resource as audience", edit: func(f url.Values) { f.Del("audience"); f.Set("resource", mcpAud) }, wantStatus: 200, wantScope: "read_file search write_file"},
		{name: "no subject token", edit: func(f url.Values) { f.Del("subject_token") }, wantStatus: 400, wantError: oauth.InvalidRequest},
		{name: "garbled subject token", edit: func(f url.Values) { f.Set("subject_token", "not.a.jwt") }, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "wrong subject token type", edit: func(f url.Values) { f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2") }, wantStatus: 400, wantError: oauth.InvalidRequest},
		{name: "ci token without ci_trust", edit: func(f url.Values) { f.Set("subject_token_type", token.TokenTypeJWT) }, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "unknown idp", edit: func(f url.Values) { f.Set("subject_token", other.idToken(t, alice)) }, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "forged token with a trusted iss", edit: func(f url.Values) {
			forged := &idp{key: other.key, iss: idpURL}
			f.Set("subject_token", forged.idToken(t, alice))
		}, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "wrong audience", edit: func(f url.Values) { f.Set("subject_token", h.idp.idToken(t, with(alice, "aud", "someone-else"))) }, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "expired", edit: func(f url.Values) {
			f.Set("subject_token", h.idp.idToken(t, with(alice, "exp", time.Now().Add(-time.Hour).Unix())))
		}, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "unregistered agent", dpop: proof(t, strangerKey, tokenURL), wantStatus: 401, wantError: oauth.InvalidClient},
		{name: "suspended agent", dpop: proof(t, sleepyKey, tokenURL), wantStatus: 400, wantError: oauth.UnauthorizedClient},
		{name: "revoked user", edit: func(f url.Values) {
			f.Set("subject_token", h.idp.idToken(t, map[string]any{"sub": "mallory", "groups": []string{"eng"}}))
		}, wantStatus: 400, wantError: oauth.InvalidGrant},
		{name: "user not allowed", edit: func(f url.Values) {
			f.Set("subject_token", h.idp.idToken(t, map[string]any{"sub": "bob", "groups": []string{"sales"}}))
		}, wantStatus: 400, wantError: oauth.UnauthorizedClient},
		{name: "allowed by group", edit: func(f url.Values) {
			f.Set("subject_token", h.idp.idToken(t, map[string]any{"sub": "carol", "groups": []string{"eng"}}))
		}, wantStatus: 200, wantScope: "read_file search write_file"},
		{name: "no granted tool", edit: func(f url.Values) { f.Set("scope", "delete_everything") }, wantStatus: 400, wantError: oauth.InvalidScope},
		{name: "missing audience", edit: func(f url.Values) { f.Del("audience") }, wantStatus: 400, wantError: oauth.InvalidTarget},
		{name: "bad resource", edit: func(f url.Values) { f.Set("resource", "not absolute") }, wantStatus: 400, wantError: oauth.InvalidTarget},
		{name: "dpop for another url", dpop: proof(t, h.agentKey, issuerURL+"/v1/other"), wantStatus: 400, wantError: oauth.InvalidDPoPProof},
		{name: "garbled dpop", dpop: "garbage", wantStatus: 400, wantError: oauth.InvalidDPoPProof},
		{name: "no agent credential", dpop: "-", wantStatus: 401, wantError: oauth.InvalidClient},
		{name: "wrong grant type", edit: func(f url.Values) { f.Set("grant_type", "password") }, wantStatus: 400, wantError: oauth.UnsupportedGrantType},
		{name: "duplicate parameter", edit: func(f url.Values) { f.Add("subject_token", "x") }, wantStatus: 400, wantError: oauth.InvalidRequest},
		{name: "actor token type without token", edit: func(f url.Values) { f.Set("actor_token_type", token.TokenTypeJWT) }, wantStatus: 400, wantError: oauth.InvalidRequest},
		{name: "json body", ctype: "application/json", wantStatus: 400, wantError: oauth.InvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := h.form(t, alice)
			if tt.edit != nil {
				tt.edit(f)
			}
			hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			if tt.ctype != "" {
				hdr.Set("Content-Type", tt.ctype)
			}
			switch tt.dpop {
			case "":
				hdr.Set("DPoP", proof(t, h.agentKey, tokenURL))
			case "-":
			default:
				hdr.Set("DPoP", tt.dpop)
			}
			before := strings.Count(h.auditBuf.String(), "\n")
			rec := h.do(t, http.MethodPost, "/v1/token", f.Encode(), hdr)
			got := decode[tokenResponse](t, rec)
			if rec.Code != tt.wantStatus || got.Error != tt.wantError {
				t.Fatalf("status %d error %q (%s), want %d %q", rec.Code, got.Error, got.Description, tt.wantStatus, tt.wantError)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", rec.Header().Get("Cache-Control"))
			}
			if tt.wantError == oauth.InvalidGrant || tt.wantError == oauth.InvalidClient {
				if got.Description != oauth.AuthFailed {
					t.Errorf("authentication failure says %q, want the uniform %q", got.Description, oauth.AuthFailed)
				}
			}
			// Requests refused before the exchange (form, grant type) are not
			// token decisions; every exchange decision is audited.
			lines := strings.Count(h.auditBuf.String(), "\n") - before
			if parsed := tt.wantError == "" || tt.wantStatus == 401 || tt.wantError == oauth.InvalidGrant ||
				tt.wantError == oauth.UnauthorizedClient || tt.wantError == oauth.InvalidScope || tt.wantError == oauth.InvalidDPoPProof ||
				(tt.wantError == oauth.InvalidTarget && tt.name == "missing audience"); parsed && lines != 1 {
				t.Errorf("%d audit records, want 1", lines)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got.TokenType != token.TypeDPoP || got.IssuedTokenType != token.TokenTypeJWT || got.ExpiresIn != 300 || got.Scope != tt.wantScope {
				t.Fatalf("response = %+v", got)
			}
			v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{issuerURL: aat.SignerKeys{Signer: h.signer}}, Audience: mcpAud, RequireConfirmation: true})
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), got.AccessToken)
			if err != nil {
				t.Fatalf("issued AAT does not verify: %v", err)
			}
			if err := aat.CheckJKT(c, h.agentKey.Public()); err != nil {
				t.Errorf("AAT not bound to the agent's key: %v", err)
			}
			if c.Agent.ID != "bot" || c.Actor.Subject != "bot" || strings.Join(c.Capabilities.Tools, " ") != tt.wantScope ||
				c.PolicyHash != "sha256:abc" || c.UserBinding.AuthMethod != token.AuthMethodOIDC || c.SessionID == "" {
				t.Errorf("claims = %+v", c)
			}
			if strings.Contains(h.auditBuf.String(), got.AccessToken) {
				t.Errorf("the audit log holds the token")
			}
		})
	}
}

func TestTokenDPoPReplay(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	p := proof(t, h.agentKey, issuerURL+"/v1/token")
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Dpop": {p}}
	if rec := h.do(t, http.MethodPost, "/v1/token", h.form(t, alice).Encode(), hdr); rec.Code != 200 {
		t.Fatalf("first use: %d %s", rec.Code, rec.Body)
	}
	rec := h.do(t, http.MethodPost, "/v1/token", h.form(t, alice).Encode(), hdr)
	if got := decode[tokenResponse](t, rec); rec.Code != 400 || got.Error != oauth.InvalidDPoPProof {
		t.Fatalf("replay: %d %+v", rec.Code, got)
	}
}

// A nonce store that cannot record the proof's jti (here: full) fails
// the request closed: the token is not issued.
func TestTokenDPoPReplayStoreUnavailable(t *testing.T) {
	full := nonce.NewMemory(nonce.MemoryConfig{MaxEntries: 1})
	if err := full.Record(context.Background(), "filler", time.Time{}, time.Hour); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpts{replay: full})
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Dpop": {proof(t, h.agentKey, issuerURL+"/v1/token")}}
	rec := h.do(t, http.MethodPost, "/v1/token", h.form(t, alice).Encode(), hdr)
	if got := decode[tokenResponse](t, rec); rec.Code != http.StatusServiceUnavailable || got.Error != oauth.TemporarilyUnavailable || got.AccessToken != "" {
		t.Fatalf("store unavailable: %d %+v, want 503 temporarily_unavailable", rec.Code, got)
	}
}

// downSigner stands in for a Vault that cannot be reached (the
// integration test stops a real one).
type downSigner struct{ signer.Signer }

func (downSigner) Sign(context.Context, string, []byte) ([]byte, error) {
	return nil, signer.ErrUnavailable
}

func TestTokenSignerUnavailable(t *testing.T) {
	base := newHarness(t, harnessOpts{})
	h := newHarness(t, harnessOpts{signer: downSigner{base.signer}})
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Dpop": {proof(t, h.agentKey, issuerURL+"/v1/token")}}
	rec := h.do(t, http.MethodPost, "/v1/token", h.form(t, alice).Encode(), hdr)
	if got := decode[tokenResponse](t, rec); rec.Code != 503 || got.Error != oauth.TemporarilyUnavailable {
		t.Fatalf("signer down: %d %+v", rec.Code, got)
	}
}
