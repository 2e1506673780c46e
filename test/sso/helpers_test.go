package sso

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
)

// clock is the issuer's clock: real time plus an offset tests move.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

// stack is an issuer with the SSO section pointing at the test Dex, on
// the port Dex redirects the bind client to.
type stack struct {
	dex    *env.DexServer
	base   string
	is     *issuer.Issuer
	clock  *clock
	client *issuerclient.Client // as an admin (Alice's ID token)
}

func newStack(t *testing.T) *stack {
	t.Helper()
	d := env.Dex(t)
	clk := &clock{}
	base, is := issuertest.Start(t, issuertest.Options{LocalUser: "local-op", Now: clk.Now, Listen: d.BindAddr, Extra: fmt.Sprintf(`
identity_providers:
  - {name: dex, issuer_url: %q, audience: %q}
admins: {oidc_groups: [aip-admins]}
sso:
  provider: dex
  client_id: %q
  client_secret: %q
  redirect_url: %q
  default_binding_ttl: 8h
  max_binding_ttl: 168h
`, d.Issuer, d.ClientID, d.BindClientID, d.BindClientSecret, d.BindRedirectURL)})
	c, err := issuerclient.New(issuerclient.Config{BaseURL: base, AdminToken: d.IDToken(t, env.Alice)})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{dex: d, base: base, is: is, clock: clk, client: c}
}

// agent registers a native-key agent that members of aip-admins may bind.
func (s *stack) agent(t *testing.T, id string, tools ...string) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.is.Registry().Create(context.Background(), registry.Agent{ID: id, Name: "Research bot", Owner: "team-a",
		PublicKey: &jose.JSONWebKey{Key: k.Public()}, Capabilities: tools, AllowedGroups: []string{"aip-admins"}}); err != nil {
		t.Fatal(err)
	}
	return k
}

// exchange asks for an AAT with the agent's key only: no subject token.
func (s *stack) exchange(t *testing.T, k *dpop.Key, scope ...string) (*issuerclient.TokenResponse, error) {
	t.Helper()
	return s.client.Exchange(context.Background(), issuerclient.TokenRequest{Audience: []string{"mcp-fs"}, Scope: scope,
		DPoPKey: k, DPoPNow: s.clock.Now})
}

// browser is a fresh headless Chromium (its own profile, so no cookies).
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.UserDataDir(t.TempDir()))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	// The timeout bounds the whole browser: a stuck page fails the test.
	tctx, cancelT := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelA := chromedp.NewExecAllocator(tctx, opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA(); cancelT() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v (make tools-chromium installs it)", exe, err)
	}
	return ctx
}

// dexLogin fills Dex's password form as u.
func dexLogin(u env.DexUser) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), u.Username),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.ID("submit-login")),
	)
}

// a11y is what accessibilityCheck finds on a page.
type a11y struct {
	Lang       string   `json:"lang"`
	H1         int      `json:"h1"`
	Unlabelled []string `json:"unlabelled"`
	Title      string   `json:"title"`
}

// accessibility checks the basics: lang set, one h1, every form control
// labelled (by a <label for>, or a wrapping label), a title.
func accessibility(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	const js = `(() => {
  const out = {lang: document.documentElement.lang, h1: document.querySelectorAll('h1').length, title: document.title, unlabelled: []};
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const byFor = el.id && document.querySelector('label[for="' + el.id + '"]');
    if (!byFor && !el.closest('label')) out.unlabelled.push(el.name || el.id || el.outerHTML);
  }
  return out;
})()`
	got, err := chromedp.Run(ctx, chromedp.Evaluate[a11y](js))
	if err != nil {
		t.Fatalf("%s: accessibility check: %v", what, err)
	}
	if got.Lang == "" || got.H1 != 1 || len(got.Unlabelled) > 0 || got.Title == "" {
		t.Errorf("%s: accessibility: %+v (want lang, one h1, a title, no unlabelled control)", what, got)
	}
}

// claims decodes an AAT's payload (its signature is the issuer's, checked
// elsewhere; here the claims are what matter).
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("AAT is not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
