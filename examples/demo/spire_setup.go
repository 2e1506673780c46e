package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/aip-project/aip/internal/svid"
)

// The helpers of `make demo-spire` (scripts/demo-spire.sh) that a shell
// cannot do well: Dex's bcrypt password file, an ID token by the password
// grant, and a readiness probe over SPIFFE mTLS.

// dexUser is a static Dex user of the demo.
type dexUser struct {
	email, password, userID string
	groups                  []string
}

// Alice administers the issuer (group aip-admins); Bob is the user the
// agent acts for (group engineering).
var dexUsers = []dexUser{
	{"alice@example.com", "alice-password", "alice-0001", []string{"aip-admins", "engineering"}},
	{"bob@example.com", "bob-password", "bob-0002", []string{"engineering"}},
}

// dexConfig writes Dex's configuration: in-memory storage, the password
// database with Alice and Bob, a confidential client for the scripted
// logins (the password grant, enabled for this demo only) and, with
// -sso-client-id, the issuer's confidential client of the SSO binding flow
// (authorization code, redirected to the issuer's /bind/callback).
func dexConfig(args []string) error {
	fs := flag.NewFlagSet("dex-config", flag.ContinueOnError)
	issuer := fs.String("issuer", "", "Dex's issuer `URL` (http://127.0.0.1:PORT)")
	listen := fs.String("listen", "", "Dex's listen `ADDR`")
	clientID := fs.String("client-id", "", "the client `ID`")
	secret := fs.String("client-secret", "", "the client `SECRET`")
	ssoID := fs.String("sso-client-id", "", "the issuer's SSO client `ID` (optional)")
	ssoSecret := fs.String("sso-client-secret", "", "the issuer's SSO client `SECRET`")
	ssoRedirect := fs.String("sso-redirect", "", "the issuer's `URL` /bind/callback")
	out := fs.String("out", "", "the config `FILE` to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *issuer == "" || *listen == "" || *clientID == "" || *secret == "" || *out == "" {
		return errors.New("dex-config: -issuer, -listen, -client-id, -client-secret and -out are required")
	}
	var sso string
	if *ssoID != "" {
		if *ssoSecret == "" || *ssoRedirect == "" {
			return errors.New("dex-config: -sso-client-id needs -sso-client-secret and -sso-redirect")
		}
		sso = fmt.Sprintf("  - id: %s\n    secret: %s\n    name: aip issuer (SSO binding)\n    redirectURIs: [%q]\n", *ssoID, *ssoSecret, *ssoRedirect)
	}
	var users strings.Builder
	for _, u := range dexUsers {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.password), bcrypt.DefaultCost)
		if err != nil {
			return fmt.Errorf("hash password: %w", err)
		}
		fmt.Fprintf(&users, "  - email: %q\n    hash: %q\n    username: %q\n    userID: %q\n    groups: [%s]\n",
			u.email, hash, u.email, u.userID, strings.Join(u.groups, ", "))
	}
	cfg := fmt.Sprintf(`issuer: %s
storage: {type: memory}
web: {http: %s}
logger: {level: info}
oauth2:
  grantTypes: [authorization_code, refresh_token, password]
  skipApprovalScreen: true
  passwordConnector: local
enablePasswordDB: true
staticClients:
  - id: %s
    secret: %s
    name: aip demo
    redirectURIs: ["http://127.0.0.1:5555/callback"]
%sstaticPasswords:
%s`, *issuer, *listen, *clientID, *secret, sso, users.String())
	return os.WriteFile(*out, []byte(cfg), 0o600)
}

// dexLogin is a password grant at Dex for one user.
type dexLogin struct {
	issuer, clientID, secret, user string
}

func (l *dexLogin) flags(fs *flag.FlagSet) {
	fs.StringVar(&l.issuer, "dex", "", "Dex's issuer `URL`")
	fs.StringVar(&l.clientID, "client-id", "", "the OIDC client `ID` (the issuer's identity_providers[].audience)")
	fs.StringVar(&l.secret, "client-secret", "", "the client `SECRET`")
	fs.StringVar(&l.user, "user", "", "the demo user's `EMAIL`")
}

// idToken logs the user in with the password grant (a demo shortcut: a
// person would use a browser or the device flow) and returns the raw ID
// token, verified against Dex.
func (l *dexLogin) idToken(ctx context.Context) (string, error) {
	var password string
	for _, u := range dexUsers {
		if u.email == l.user {
			password = u.password
		}
	}
	if password == "" {
		return "", fmt.Errorf("%q is not a demo user", l.user)
	}
	ctx = oidc.ClientContext(ctx, &http.Client{Timeout: 10 * time.Second})
	provider, err := oidc.NewProvider(ctx, l.issuer)
	if err != nil {
		return "", fmt.Errorf("dex discovery: %w", err)
	}
	cfg := &oauth2.Config{ClientID: l.clientID, ClientSecret: l.secret, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"}}
	tok, err := cfg.PasswordCredentialsToken(ctx, l.user, password)
	if err != nil {
		return "", fmt.Errorf("dex login of %s: %w", l.user, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", fmt.Errorf("dex returned no ID token for %s", l.user)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: l.clientID}).Verify(ctx, raw); err != nil {
		return "", fmt.Errorf("verify the ID token of %s: %w", l.user, err)
	}
	return raw, nil
}

// dexToken writes a user's ID token to a file (mode 0600), for the aip
// CLI's --admin-token-file.
func dexToken(args []string) error {
	var l dexLogin
	fs := flag.NewFlagSet("dex-token", flag.ContinueOnError)
	l.flags(fs)
	out := fs.String("out", "", "the `FILE` to write the ID token to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("dex-token: -out is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	raw, err := l.idToken(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(raw+"\n"), 0o600)
}

// probe GETs URL once over SPIFFE mTLS with this workload's SVID of -id,
// accepting only a server whose SVID is -server: exit 0 when it answers
// 200. The demo script polls with it until an enforcer is ready.
func probe(args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	addr := fs.String("workload-api", "", "the SPIFFE Workload API `ADDR` (unix:///...)")
	own := fs.String("id", "", "this workload's SPIFFE `ID` (the SVID presented)")
	server := fs.String("server", "", "the server's SPIFFE `ID`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("probe: want one URL")
	}
	id, err := spiffeid.FromString(*own)
	if err != nil {
		return fmt.Errorf("-id: %w", err)
	}
	sid, err := spiffeid.FromString(*server)
	if err != nil {
		return fmt.Errorf("-server: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	src, err := svid.NewX509Source(ctx, *addr, id)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeID(sid))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", fs.Arg(0), resp.Status)
	}
	return nil
}
