package sso

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/test/env"
)

// Alice binds an agent in the browser, allowing two of its three tools
// for a day; the agent then gets AATs for her with its own key alone.
func TestBindFlow(t *testing.T) {
	s := newStack(t)
	key := s.agent(t, "research-bot", "read_file", "search", "write_file")
	ctx := browser(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/bind?agent=research-bot"),
		dexLogin(env.Alice),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/bind/consent"]`)),
	)
	if err != nil {
		t.Fatalf("bind flow up to consent: %v", err)
	}
	if h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h1, "Research bot") {
		t.Errorf("consent h1 = %q, want the agent's name", h1)
	}
	accessibility(t, ctx, "consent page")

	// The consent POST needs the CSRF token of this flow.
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.base + "/bind/consent"}})
	if err != nil {
		t.Fatal(err)
	}
	var jar []string
	for _, c := range cookies.Cookies {
		if !c.HTTPOnly {
			t.Errorf("cookie %s is not HttpOnly", c.Name)
		}
		jar = append(jar, c.Name+"="+c.Value)
	}
	for name, form := range map[string]url.Values{
		"missing csrf": {"scope": {"read_file"}, "duration": {"1h0m0s"}},
		"wrong csrf":   {"csrf_token": {"forged"}, "scope": {"read_file"}, "duration": {"1h0m0s"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.base+"/bind/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", strings.Join(jar, "; "))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: consent POST = %d, want 403", name, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP = %q", name, csp)
		}
	}
	if bs, _ := s.client.ListBindings(context.Background(), binding.Filter{}); len(bs) != 0 {
		t.Fatalf("refused POSTs stored bindings: %+v", bs)
	}

	// Uncheck write_file, choose one day, allow.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[value="write_file"]`)),
		chromedp.SetValue(chromedp.ID("duration"), "24h0m0s"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("binding-id")),
	)
	if err != nil {
		t.Fatalf("consent: %v", err)
	}
	accessibility(t, ctx, "result page")
	bindingID, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("binding-id")))
	if err != nil {
		t.Fatal(err)
	}

	bs, err := s.client.ListBindings(context.Background(), binding.Filter{Agent: "research-bot"})
	if err != nil || len(bs) != 1 || bs[0].ID != bindingID {
		t.Fatalf("bindings = %+v, %v; want the one just made (%s)", bs, err, bindingID)
	}
	b := bs[0]
	// Dex's sub encodes the user id and connector; the binding holds it.
	if b.User == "" || b.Email != env.Alice.Username || strings.Join(b.Scopes, " ") != "read_file search" {
		t.Errorf("binding = %+v", b)
	}
	if d := b.Expiry.Sub(b.CreatedAt); d < 24*time.Hour-2*time.Second || d > 24*time.Hour {
		t.Errorf("binding lasts %v, want the 24h chosen", d)
	}

	// The agent, with its key alone, acts for Alice within the binding.
	resp, err := s.exchange(t, key)
	if err != nil {
		t.Fatalf("exchange on the binding: %v", err)
	}
	if resp.Scope != "read_file search" {
		t.Errorf("scope = %q, want the two tools Alice allowed", resp.Scope)
	}
	c := claims(t, resp.AccessToken)
	ub, _ := c["user_binding"].(map[string]any)
	if c["sub"] != b.User || ub["auth_method"] != "sso_binding" || ub["auth_time"] == nil || c["session_id"] != bindingID {
		t.Errorf("claims = %v", c)
	}
	if exp, _ := c["exp"].(float64); int64(exp) > b.Expiry.Unix() {
		t.Errorf("exp %v beyond the binding's expiry %v", exp, b.Expiry.Unix())
	}
	// A tool Alice did not allow is not granted, even if asked for.
	if _, err := s.exchange(t, key, "write_file"); !isOAuth(err, "invalid_scope") {
		t.Errorf("exchange for write_file = %v, want invalid_scope", err)
	}
	// Naming the user explicitly works too.
	named, err := s.client.Exchange(context.Background(), issuerclient.TokenRequest{Audience: []string{"mcp-fs"},
		SubjectToken: env.Alice.Username, SubjectTokenType: "urn:aip:params:oauth:token-type:binding", DPoPKey: key, DPoPNow: s.clock.Now})
	if err != nil || named.Scope != "read_file search" {
		t.Errorf("exchange naming alice = %+v, %v", named, err)
	}
	if _, err := s.client.Exchange(context.Background(), issuerclient.TokenRequest{Audience: []string{"mcp-fs"},
		SubjectToken: env.Bob.Username, SubjectTokenType: "urn:aip:params:oauth:token-type:binding", DPoPKey: key, DPoPNow: s.clock.Now}); !isOAuth(err, "invalid_grant") {
		t.Errorf("exchange naming bob (no binding) = %v, want invalid_grant", err)
	}

	// Near its end, AATs stop at the binding's expiry; after it, none.
	s.clock.Advance(b.Expiry.Sub(s.clock.Now()) - 90*time.Second)
	late, err := s.exchange(t, key)
	if err != nil {
		t.Fatalf("exchange 90s before the binding ends: %v", err)
	}
	if exp, _ := claims(t, late.AccessToken)["exp"].(float64); int64(exp) > b.Expiry.Unix() || late.ExpiresIn > 90 {
		t.Errorf("late AAT exp %v (expires_in %d) beyond the binding's expiry %v", exp, late.ExpiresIn, b.Expiry.Unix())
	}
	s.clock.Advance(2 * time.Minute)
	if _, err := s.exchange(t, key); !isOAuth(err, "invalid_grant") {
		t.Errorf("exchange after the binding expired = %v, want invalid_grant", err)
	}
}

// Offboarding: revoking a user through the revocation API ends all their
// bindings at once.
func TestRevokeUserEndsBindings(t *testing.T) {
	s := newStack(t)
	key := s.agent(t, "mail-bot", "send_mail", "read_mail")
	id := bindInBrowser(t, s, "mail-bot")
	if _, err := s.exchange(t, key); err != nil {
		t.Fatalf("exchange before revocation: %v", err)
	}
	bs, err := s.client.ListBindings(context.Background(), binding.Filter{Agent: "mail-bot"})
	if err != nil || len(bs) != 1 || bs[0].ID != id {
		t.Fatalf("bindings = %+v, %v", bs, err)
	}
	alice := bs[0].User
	if _, err := s.client.Revoke(context.Background(), revocation.Revocation{Kind: revocation.KindUser,
		Subject: alice, Reason: "offboarded"}); err != nil {
		t.Fatalf("revoke user: %v", err)
	}
	if bs, err := s.client.ListBindings(context.Background(), binding.Filter{User: alice}); err != nil || len(bs) != 0 {
		t.Errorf("alice's bindings after her revocation = %+v, %v; want none", bs, err)
	}
	if _, err := s.exchange(t, key); !isOAuth(err, "invalid_grant") {
		t.Errorf("exchange after revocation = %v, want invalid_grant", err)
	}
}

// Revoking one binding by id (the admin API) stops the agent.
func TestRevokeBinding(t *testing.T) {
	s := newStack(t)
	key := s.agent(t, "calendar-bot", "read_calendar")
	id := bindInBrowser(t, s, "calendar-bot")
	// The admin routes need an admin: none, or a non-admin's token, is refused.
	for name, tok := range map[string]string{"no credential": "", "bob (not an admin)": s.dex.IDToken(t, env.Bob)} {
		c, err := issuerclient.New(issuerclient.Config{BaseURL: s.base, AdminToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListBindings(context.Background(), binding.Filter{}); !isOAuth(err, "invalid_token") && !isOAuth(err, "access_denied") {
			t.Errorf("%s: list bindings = %v, want a refusal", name, err)
		}
		if _, err := c.RevokeBinding(context.Background(), id); err == nil {
			t.Errorf("%s: revoke binding succeeded", name)
		}
	}
	if _, err := s.client.RevokeBinding(context.Background(), id); err != nil {
		t.Fatalf("revoke binding: %v", err)
	}
	if _, err := s.exchange(t, key); !isOAuth(err, "invalid_grant") {
		t.Errorf("exchange after the binding was revoked = %v, want invalid_grant", err)
	}
	if _, err := s.client.RevokeBinding(context.Background(), id); !isOAuth(err, "not_found") {
		t.Errorf("revoke again = %v, want not_found", err)
	}
}

// Bob is not among those allowed to bind the agent: a clear refusal page,
// and nothing stored.
func TestBindNotAllowed(t *testing.T) {
	s := newStack(t)
	s.agent(t, "research-bot", "read_file")
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/bind?agent=research-bot"),
		dexLogin(env.Bob),
		chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)),
	)
	if err != nil {
		t.Fatalf("bind flow as bob: %v", err)
	}
	h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role="alert"]`)))
	if h1 != "Not allowed" || !strings.Contains(msg, "not among the people or groups allowed") {
		t.Errorf("refusal page: h1 %q, message %q", h1, msg)
	}
	accessibility(t, ctx, "refusal page")
	if bs, _ := s.client.ListBindings(context.Background(), binding.Filter{}); len(bs) != 0 {
		t.Errorf("bindings after a refusal: %+v", bs)
	}

	// An unknown agent is refused before any login.
	err = chromedp.Do(ctx, chromedp.Navigate(s.base+"/bind?agent=nobody"))
	if h1, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err != nil || h1 != "Unknown agent" {
		t.Errorf("unknown agent page: %q, %v", h1, err)
	}
}

// bindInBrowser binds agent to Alice with every tool and the default
// duration, and returns the binding id.
func bindInBrowser(t *testing.T, s *stack, agent string) string {
	t.Helper()
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/bind?agent="+agent),
		dexLogin(env.Alice),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/bind/consent"]`)),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("binding-id")),
	)
	id, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("binding-id")))
	if err != nil {
		t.Fatalf("bind %s as alice: %v", agent, err)
	}
	return id
}

func isOAuth(err error, code string) bool {
	var e *issuerclient.Error
	return errors.As(err, &e) && e.Code == code
}
