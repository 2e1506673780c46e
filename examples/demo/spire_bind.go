package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The person's side of the SSO binding in `make demo-spire`: the issuer's
// /bind pages are plain HTML forms (no JavaScript), so an http.Client
// with a cookie jar can do what a person does in a browser. test/sso
// drives the same pages with real Chromium.

// maxPage bounds the pages read (the issuer's and Dex's are a few KiB).
const maxPage = 1 << 20

var (
	consentCSRF     = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	consentScope    = regexp.MustCompile(`name="scope" value="([^"]*)"`)
	consentDuration = regexp.MustCompile(`<option value="([^"]*)"`)
	consentAction   = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	pageTitle       = regexp.MustCompile(`<h1>([^<]*)</h1>`)
	boundID         = regexp.MustCompile(`<code id="binding-id">([^<]*)</code>`)
)

// ssoBind is `demo sso-bind`: a demo user binds an agent to themselves
// through the issuer's web flow and the binding id is written to -out.
func ssoBind(args []string) error {
	fs := flag.NewFlagSet("sso-bind", flag.ContinueOnError)
	issuer := fs.String("issuer", "", "the issuer's `URL`")
	ca := fs.String("ca", "", "the `FILE` (PEM) of the CAs the issuer's certificate is checked with")
	agentID := fs.String("agent", "", "the registered agent `ID` to bind")
	user := fs.String("user", "", "the demo user's `EMAIL` (a Dex static user)")
	scope := fs.String("scope", "", "the `TOOLS` to allow, comma-separated (a subset of the agent's)")
	ttl := fs.Duration("duration", time.Hour, "how long the binding lasts: one of the consent page's choices")
	out := fs.String("out", "", "the `FILE` to write the binding id to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *issuer == "" || *ca == "" || *agentID == "" || *user == "" || *scope == "" || *out == "" {
		return errors.New("sso-bind: -issuer, -ca, -agent, -user, -scope and -out are required")
	}
	password := ""
	for _, u := range dexUsers {
		if u.email == *user {
			password = u.password
		}
	}
	if password == "" {
		return fmt.Errorf("%q is not a demo user", *user)
	}
	client, err := browser(*ca)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	start := *issuer + "/bind?agent=" + url.QueryEscape(*agentID)
	fmt.Printf("   GET %s (followed to Dex's login page)\n", start)
	login, page, err := fetch(ctx, client, http.MethodGet, start, nil)
	if err != nil {
		return err
	}
	if !strings.Contains(page, `name="password"`) {
		return fmt.Errorf("%s: no login form (page %q)", login, title(page))
	}
	fmt.Printf("   POST Dex's login form at %s as %s (followed back to the issuer's /bind/callback)\n", login.Path, *user)
	consent, page, err := fetch(ctx, client, http.MethodPost, login.String(), url.Values{"login": {*user}, "password": {password}})
	if err != nil {
		return err
	}
	form, action, err := consentForm(consent, page, strings.Split(*scope, ","), *ttl)
	if err != nil {
		return err
	}
	fmt.Printf("   consent page %q: allows %s for %s; POST %s\n", title(page),
		strings.Join(form["scope"], ","), form.Get("duration"), action.Path)
	_, page, err = fetch(ctx, client, http.MethodPost, action.String(), form)
	if err != nil {
		return err
	}
	m := boundID.FindStringSubmatch(page)
	if title(page) != "Agent bound" || m == nil {
		return fmt.Errorf("consent refused: page %q", title(page))
	}
	id := html.UnescapeString(m[1])
	fmt.Printf("   -> %q: binding %s\n", title(page), id)
	return os.WriteFile(*out, []byte(id+"\n"), 0o600)
}

// browser is an HTTP client with a cookie jar that trusts the CAs of
// caFile (the issuer's) and the system's.
func browser(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile) //nolint:gosec // the demo script's file
	if err != nil {
		return nil, fmt.Errorf("read -ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-ca %s: no PEM certificate", caFile)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	return &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second}, nil
}

// fetch sends a GET, or a POST of form, follows the redirects and returns
// the final URL and page; anything but 200 is an error naming the page.
func fetch(ctx context.Context, c *http.Client, method, target string, form url.Values) (*url.URL, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", resp.Request.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s %s: %s, page %q", method, resp.Request.URL.Path, resp.Status, title(string(b)))
	}
	return resp.Request.URL, string(b), nil
}

// consentForm reads the consent page and fills its form as the person
// would: the wanted tools (each must be offered), the duration (one of
// the choices), the CSRF token; and where it posts.
func consentForm(at *url.URL, page string, tools []string, ttl time.Duration) (url.Values, *url.URL, error) {
	csrf, action := consentCSRF.FindStringSubmatch(page), consentAction.FindStringSubmatch(page)
	if csrf == nil || action == nil {
		return nil, nil, fmt.Errorf("%s: not the consent page (page %q)", at.Path, title(page))
	}
	ref, err := url.Parse(html.UnescapeString(action[1]))
	if err != nil {
		return nil, nil, fmt.Errorf("consent form action: %w", err)
	}
	offered := values(consentScope, page)
	for _, t := range tools {
		if !slices.Contains(offered, t) {
			return nil, nil, fmt.Errorf("consent page offers tools %v, not %q", offered, t)
		}
	}
	durations := values(consentDuration, page)
	if !slices.Contains(durations, ttl.String()) {
		return nil, nil, fmt.Errorf("consent page offers durations %v, not %s", durations, ttl)
	}
	form := url.Values{"csrf_token": {html.UnescapeString(csrf[1])}, "scope": tools, "duration": {ttl.String()}}
	return form, at.ResolveReference(ref), nil
}

func values(re *regexp.Regexp, page string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func title(page string) string {
	if m := pageTitle.FindStringSubmatch(page); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}
