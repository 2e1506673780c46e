package env

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"
)

// DexUser is a static user of the test Dex.
type DexUser struct {
	Username string // the email, used to log in
	Password string
	UserID   string
	Groups   []string
}

// Static users: Alice is an administrator, Bob an engineer.
var (
	Alice = DexUser{Username: "alice@example.com", Password: "alice-password", UserID: "alice-0001", Groups: []string{"aip-admins", "engineering"}}
	Bob   = DexUser{Username: "bob@example.com", Password: "bob-password", UserID: "bob-0002", Groups: []string{"engineering"}}
)

// DexServer is a real Dex OIDC provider with an in-memory store, the
// password database holding Alice and Bob, and one confidential client.
type DexServer struct {
	Issuer       string // http://127.0.0.1:PORT (at the URL root)
	ClientID     string
	ClientSecret string
	RedirectURL  string // a loopback callback registered for the client
	// BindClientID and BindClientSecret are a second confidential client,
	// for an issuer's SSO bind flow: its one redirect URL is
	// BindRedirectURL, http://BindAddr/bind/callback, on a loopback port
	// reserved before Dex started. One issuer at a time listens there.
	BindClientID, BindClientSecret, BindAddr, BindRedirectURL string
	// LoginClientID is a public client (no secret, PKCE) for `aip login`:
	// Dex accepts any loopback redirect for it, and the device flow. The
	// first client trusts it: with the scope
	// audience:server:client_id:<ClientID> its ID tokens are issued to
	// ClientID, the audience issuers in tests trust.
	LoginClientID string
	bin, dir      string
	proc          *process
}

var dexOnce once[DexServer]

// Dex returns the shared Dex server, starting it on first use.
func Dex(t testing.TB) *DexServer {
	t.Helper()
	skipShort(t, "dex")
	d, err := dexOnce.get(startDex)
	if err != nil {
		t.Fatalf("dex: %v", err)
	}
	printLogsOnFailure(t, d.proc)
	return d
}

func startDex() (*DexServer, error) {
	bin, err := Binary("DEX", "dex")
	if err != nil {
		return nil, err
	}
	dir, err := tempDir("dex")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d := &DexServer{
		Issuer: fmt.Sprintf("http://127.0.0.1:%d", port), ClientID: "aip-test", ClientSecret: "aip-test-secret",
		RedirectURL: "http://127.0.0.1:5555/callback", bin: bin, dir: dir,
		BindClientID: "aip-bind", BindClientSecret: "aip-bind-secret", LoginClientID: "aip-cli",
	}
	bindPort, err := freePort()
	if err != nil {
		return nil, err
	}
	d.BindAddr = fmt.Sprintf("127.0.0.1:%d", bindPort)
	d.BindRedirectURL = "http://" + d.BindAddr + "/bind/callback"
	cfg, err := d.config(port)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "dex.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, fmt.Errorf("write dex config: %w", err)
	}
	p, err := startProcess("dex", dir, nil, bin, "serve", cfgPath)
	if err != nil {
		return nil, err
	}
	d.proc = p
	onShutdown(p.stop)
	err = waitFor(p, 20*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := oidc.NewProvider(ctx, d.Issuer)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (d *DexServer) config(port int) ([]byte, error) {
	users := ""
	for _, u := range []DexUser{Alice, Bob} {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
		groups := ""
		for _, g := range u.Groups {
			groups += fmt.Sprintf("\n      - %q", g)
		}
		users += fmt.Sprintf("  - email: %q\n    hash: %q\n    username: %q\n    userID: %q\n    groups:%s\n",
			u.Username, hash, u.Username, u.UserID, groups)
	}
	return fmt.Appendf(nil, `issuer: %s
storage:
  type: memory
web:
  http: 127.0.0.1:%d
logger:
  level: info
oauth2:
  grantTypes: [authorization_code, refresh_token, password, "urn:ietf:params:oauth:grant-type:device_code"]
  skipApprovalScreen: true
  passwordConnector: local
enablePasswordDB: true
staticClients:
  - id: %s
    secret: %s
    name: aip tests
    trustedPeers: [%s]
    redirectURIs:
      - %s
      - %s/device/callback
  - id: %s
    secret: %s
    name: aip issuer (SSO binding)
    redirectURIs:
      - %s
  - id: %s
    name: aip CLI
    public: true
staticPasswords:
%s`, d.Issuer, port, d.ClientID, d.ClientSecret, d.LoginClientID, d.RedirectURL, d.Issuer,
		d.BindClientID, d.BindClientSecret, d.BindRedirectURL, d.LoginClientID, users), nil
}

// OAuth2Config returns the client's OAuth 2.0 configuration.
func (d *DexServer) OAuth2Config(ctx context.Context) (*oauth2.Config, *oidc.Provider, error) {
	provider, err := oidc.NewProvider(ctx, d.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("dex discovery: %w", err)
	}
	return &oauth2.Config{
		ClientID: d.ClientID, ClientSecret: d.ClientSecret, RedirectURL: d.RedirectURL,
		Endpoint: provider.Endpoint(),
		Scopes:   []string{oidc.ScopeOpenID, "email", "profile", "groups"},
	}, provider, nil
}

// IDToken logs u in with the password grant (tests only) and returns the
// raw ID token, after verifying it with go-oidc against Dex.
func (d *DexServer) IDToken(t testing.TB, u DexUser) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, &http.Client{Timeout: 5 * time.Second})
	cfg, provider, err := d.OAuth2Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.PasswordCredentialsToken(ctx, u.Username, u.Password)
	if err != nil {
		t.Fatalf("dex password grant for %s: %v", u.Username, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatalf("dex returned no id_token for %s", u.Username)
	}
	if _, err := provider.Verifier(&oidc.Config{ClientID: d.ClientID}).Verify(ctx, raw); err != nil {
		t.Fatalf("verify dex id token: %v", err)
	}
	return raw
}

// Stop stops Dex (for outage tests).
func (d *DexServer) Stop(t testing.TB) {
	t.Helper()
	d.proc.stop()
}
