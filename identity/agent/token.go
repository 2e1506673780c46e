package agent

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"

	"github.com/aip-project/aip/identity/dpop"
)

// The RFC 8693 values the issuer's token endpoint accepts (issuer/token).
//
//nolint:gosec // G101: token type URNs, not secrets
const (
	grantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeLocalUser     = "urn:aip:params:oauth:token-type:local-user"
	tokenTypeBinding       = "urn:aip:params:oauth:token-type:binding"
)

// Token types of the issuer's response (RFC 6749 §7.1, RFC 9449 §5).
const (
	TypeDPoP   = "DPoP"
	TypeBearer = "Bearer"
)

const maxTokenResponse = 64 << 10

// Token is an AAT as the issuer returned it. Its String and LogValue
// never show the token itself.
type Token struct {
	AccessToken string
	// Type is TypeDPoP (each use carries a proof by the agent's key) or
	// TypeBearer (unbound, or bound to the mTLS certificate).
	Type   string
	Scope  []string
	JTI    string // read from the token, for logs; empty if unreadable
	Expiry time.Time
	// refreshAt is when the Transport renews it.
	refreshAt time.Time
}

func (t *Token) String() string {
	return fmt.Sprintf("%s AAT jti=%s expires %s", t.Type, t.JTI, t.Expiry.UTC().Format(time.RFC3339))
}

// LogValue keeps the token out of structured logs.
func (t *Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", t.Type), slog.String("jti", t.JTI), slog.Time("expiry", t.Expiry))
}

// TokenError is a refusal by the issuer (RFC 6749 §5.2).
type TokenError struct {
	Status      int    // HTTP status
	Code        string // e.g. invalid_client, invalid_grant, invalid_scope
	Description string
}

func (e *TokenError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("issuer refused the token request: %d %s", e.Status, e.Code)
	}
	return fmt.Sprintf("issuer refused the token request: %d %s: %s", e.Status, e.Code, e.Description)
}

// fetch runs one token exchange.
func (t *Transport) fetch(ctx context.Context) (*Token, error) {
	form, err := t.form(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	proof, err := dpop.Proof(t.key, dpop.Options{Method: http.MethodPost, URL: t.tokenURL, Now: t.now})
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("DPoP", proof)
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token request to %s: %w", t.tokenURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return nil, fmt.Errorf("read token response: %w", err)
	}
	if len(body) > maxTokenResponse {
		return nil, fmt.Errorf("token response larger than %d bytes", maxTokenResponse)
	}
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Status: resp.StatusCode}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil {
			te.Code, te.Description = e.Error, e.Description
		}
		return nil, te
	}
	return t.parseResponse(body)
}

// form is the RFC 8693 request exactly as issuer/token.ParseRequest reads
// it.
func (t *Transport) form(ctx context.Context) (url.Values, error) {
	f := url.Values{
		"grant_type": {grantTypeTokenExchange},
		"audience":   {t.cfg.Audience},
	}
	if err := t.subject(ctx, f); err != nil {
		return nil, err
	}
	if t.cfg.JWTSource != nil {
		svid, err := t.cfg.JWTSource.FetchJWTSVID(ctx, jwtsvid.Params{Audience: t.cfg.IssuerURL})
		if err != nil {
			return nil, fmt.Errorf("jwt-svid for %s: %w", t.cfg.IssuerURL, err)
		}
		f.Set("actor_token", svid.Marshal())
		f.Set("actor_token_type", tokenTypeJWT)
	}
	if t.cfg.Scope != nil {
		f.Set("scope", strings.Join(t.cfg.Scope, " "))
	}
	return f, nil
}

// subject adds the subject of the request to f: nothing at all for the
// agent's only SSO binding.
func (t *Transport) subject(ctx context.Context, f url.Values) error {
	switch {
	case t.cfg.SubjectToken != nil:
		s, err := t.cfg.SubjectToken(ctx)
		if err != nil {
			return fmt.Errorf("user's id token: %w", err)
		}
		f.Set("subject_token", s)
		f.Set("subject_token_type", tokenTypeIDToken)
	case t.cfg.CIToken != nil:
		s, err := t.cfg.CIToken(ctx)
		if err != nil {
			return fmt.Errorf("ci token: %w", err)
		}
		f.Set("subject_token", s)
		f.Set("subject_token_type", tokenTypeJWT)
	case t.cfg.Binding != nil:
		if t.cfg.Binding.User != "" {
			f.Set("subject_token", t.cfg.Binding.User)
			f.Set("subject_token_type", tokenTypeBinding)
		}
	default:
		f.Set("subject_token", t.cfg.LocalUser)
		f.Set("subject_token_type", tokenTypeLocalUser)
	}
	return nil
}

func (t *Transport) parseResponse(body []byte) (*Token, error) {
	var r struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode token response: %w", err)
	}
	tok := &Token{AccessToken: r.AccessToken, Scope: strings.Fields(r.Scope), JTI: unverifiedJTI(r.AccessToken)}
	switch {
	case strings.EqualFold(r.TokenType, TypeDPoP):
		tok.Type = TypeDPoP
	case strings.EqualFold(r.TokenType, TypeBearer):
		tok.Type = TypeBearer
	default:
		return nil, fmt.Errorf("token response: token_type %q: want DPoP or Bearer", r.TokenType)
	}
	if r.AccessToken == "" || r.ExpiresIn <= 0 {
		return nil, fmt.Errorf("token response: access_token and a positive expires_in are required")
	}
	now := t.now()
	life := time.Duration(r.ExpiresIn) * time.Second
	tok.Expiry = now.Add(life)
	before := t.cfg.RefreshBefore
	if before == 0 {
		before = min(DefaultRefreshBefore, life/5)
	}
	if before >= life {
		before = life / 2
	}
	tok.refreshAt = tok.Expiry.Add(-before)
	return tok, nil
}

// unverifiedJTI reads the jti of a JWS for logs; the token is the
// issuer's, checked by the server it is sent to.
func unverifiedJTI(raw string) string {
	parts := strings.SplitN(raw, ".", 3)
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &c) != nil || len(c.JTI) > 128 {
		return ""
	}
	return c.JTI
}
