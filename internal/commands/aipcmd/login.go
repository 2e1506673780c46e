package aipcmd

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/aip-project/aip/internal/atomicfile"
	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer/token"
)

// loginTimeout bounds a whole `aip login`: the person has this long to
// sign in.
const loginTimeout = 5 * time.Minute

// storedLogin is the token file `aip login` writes (mode 0600) and
// `aip token exchange --login` reads.
type storedLogin struct {
	IDToken  string    `json:"id_token"`
	Issuer   string    `json:"issuer"`
	ClientID string    `json:"client_id"`
	Expiry   time.Time `json:"expiry"`
}

type loginFlags struct {
	idp, clientID, tokenFile string
	scopes                   stringList
	device, open             bool
}

func loginCommand() *cli.Command {
	var o loginFlags
	return &cli.Command{
		Name:    "login",
		Summary: "sign in at your identity provider; stores a user token for token exchanges",
		Usage:   "--idp URL --client-id ID [--scope S]... [--device | --open] [--token-file FILE]",
		Help: "Signs you in with OAuth 2.0 and OIDC as a public client: by default an authorization code\n" +
			"with PKCE (S256) redirected to a one-time listener on 127.0.0.1 (the URL to open is printed;\n" +
			"--open tries a browser), or with --device the device flow, for machines without a browser.\n" +
			"The ID token is stored in --token-file (mode 0600), default $XDG_CONFIG_HOME/aip/login.json;\n" +
			"`aip token exchange --login` uses it. With Dex, add --scope audience:server:client_id:AUD\n" +
			"to get a token for the client id the issuer trusts (identity_providers[].audience).",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&o.idp, "idp", os.Getenv("AIP_IDP"), "the identity provider's issuer `URL` (default $AIP_IDP)")
			fs.StringVar(&o.clientID, "client-id", os.Getenv("AIP_LOGIN_CLIENT_ID"), "the public OAuth client `ID` (default $AIP_LOGIN_CLIENT_ID)")
			fs.Var(&o.scopes, "scope", "an extra `SCOPE` to ask for (repeatable; openid, email, profile, groups always)")
			fs.BoolVar(&o.device, "device", false, "use the device flow (enter a code on another device)")
			fs.BoolVar(&o.open, "open", false, "try to open the URL in a browser (xdg-open)")
			fs.StringVar(&o.tokenFile, "token-file", "", "where to store the token `FILE` (default $XDG_CONFIG_HOME/aip/login.json)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("no arguments are taken")
			}
			if o.idp == "" || o.clientID == "" {
				return cli.Usagef("--idp and --client-id are required")
			}
			if o.device && o.open {
				return cli.Usagef("--open applies to the browser flow, not --device")
			}
			path, err := loginFile(o.tokenFile)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, loginTimeout)
			defer cancel()
			ctx = oidc.ClientContext(ctx, &http.Client{Timeout: 15 * time.Second})
			provider, err := oidc.NewProvider(ctx, o.idp)
			if err != nil {
				return fmt.Errorf("discover %s: %w", o.idp, err)
			}
			oc := &oauth2.Config{ClientID: o.clientID, Endpoint: provider.Endpoint(),
				Scopes: append([]string{oidc.ScopeOpenID, "email", "profile", "groups"}, o.scopes...)}
			var tok *oauth2.Token
			if o.device {
				tok, err = o.deviceFlow(ctx, env, oc)
			} else {
				tok, err = o.browserFlow(ctx, env, oc)
			}
			if err != nil {
				return err
			}
			s, err := verifyLogin(ctx, provider, o.clientID, tok)
			if err != nil {
				return err
			}
			s.Issuer = o.idp
			data, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return fmt.Errorf("token file directory: %w", err)
			}
			if err := atomicfile.Write(path, data); err != nil {
				return fmt.Errorf("store the token: %w", err)
			}
			fmt.Fprintf(env.Stdout, "signed in; token stored in %s until %s\n", path, s.Expiry.Local().Format(time.RFC3339))
			return nil
		},
	}
}

// loginFile is --token-file or the default under $XDG_CONFIG_HOME.
func loginFile(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no --token-file and no config directory: %w", err)
	}
	return filepath.Join(dir, "aip", "login.json"), nil
}

// browserFlow: authorization code + PKCE, redirected to 127.0.0.1.
func (o *loginFlags) browserFlow(ctx context.Context, env cli.Env, oc *oauth2.Config) (*oauth2.Token, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loopback listener: %w", err)
	}
	oc.RedirectURL = "http://" + ln.Addr().String() + "/callback"
	state, verifier := randomState(), oauth2.GenerateVerifier()
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		res := result{code: q.Get("code")}
		switch {
		case q.Get("error") != "":
			res.err = fmt.Errorf("the identity provider refused: %s", q.Get("error"))
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			res.err = errors.New("the callback's state does not match this login")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		msg := "Signed in. You can close this page and return to the terminal."
		if res.err != nil {
			msg = "Sign-in failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!DOCTYPE html><html lang=\"en\"><head><title>aip login</title></head><body><main><h1>aip login</h1><p>%s</p></main></body></html>", html.EscapeString(msg))
		select {
		case done <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()

	u := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	fmt.Fprintf(env.Stderr, "Open this URL to sign in:\n\n  %s\n\n", u)
	if o.open {
		if err := exec.CommandContext(ctx, "xdg-open", u).Start(); err != nil {
			fmt.Fprintf(env.Stderr, "(could not open a browser: %v)\n", err)
		}
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the sign-in: %w", ctx.Err())
	case res := <-done:
		if res.err != nil {
			return nil, res.err
		}
		tok, err := oc.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
		if err != nil {
			return nil, fmt.Errorf("redeem the authorization code: %w", err)
		}
		return tok, nil
	}
}

// deviceFlow: RFC 8628.
func (o *loginFlags) deviceFlow(ctx context.Context, env cli.Env, oc *oauth2.Config) (*oauth2.Token, error) {
	da, err := oc.DeviceAuth(ctx)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	fmt.Fprintf(env.Stderr, "On any device, open\n\n  %s\n\nand enter the code %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(env.Stderr, "(or open %s)\n", da.VerificationURIComplete)
	}
	tok, err := oc.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, fmt.Errorf("device flow: %w", err)
	}
	return tok, nil
}

// verifyLogin checks the ID token (signature, issuer, expiry) and that it
// was issued through this client (aud or azp).
func verifyLogin(ctx context.Context, p *oidc.Provider, clientID string, tok *oauth2.Token) (*storedLogin, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("the identity provider returned no ID token")
	}
	idt, err := p.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify the ID token: %w", err)
	}
	var c struct {
		AZP string `json:"azp"`
	}
	_ = idt.Claims(&c)
	if !slices.Contains(idt.Audience, clientID) && c.AZP != clientID {
		return nil, errors.New("the ID token was not issued to this client")
	}
	return &storedLogin{IDToken: raw, ClientID: clientID, Expiry: idt.Expiry}, nil
}

// readLogin returns the stored ID token, refusing an expired one.
func readLogin(path string, now time.Time) (string, error) {
	path, err := loginFile(path)
	if err != nil {
		return "", err
	}
	data, _, err := readSmallFile(path)
	if err != nil {
		return "", fmt.Errorf("read the stored login (run `aip login`): %w", err)
	}
	var s storedLogin
	if err := json.Unmarshal(data, &s); err != nil || s.IDToken == "" {
		return "", fmt.Errorf("%s is not a token file of `aip login`", path)
	}
	if !now.Before(s.Expiry) {
		return "", fmt.Errorf("the stored login expired at %s: run `aip login` again", s.Expiry.Local().Format(time.RFC3339))
	}
	return s.IDToken, nil
}

func randomState() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// subjects counts the subject flags of `aip token exchange`.
func (o *exchangeFlags) subjects() int {
	n := 0
	for _, set := range []bool{o.subjectTokenFile != "", o.localUser.set, o.login, o.binding.set} {
		if set {
			n++
		}
	}
	return n
}

// ssoSubject fills the subject of --login (the stored ID token) or
// --binding (none, or the named user: the agent's SSO binding).
func (o *exchangeFlags) ssoSubject(req *issuerclient.TokenRequest) error {
	if o.binding.set {
		if o.binding.name != "" {
			req.SubjectToken, req.SubjectTokenType = o.binding.name, token.TokenTypeBinding
		}
		return nil
	}
	tok, err := readLogin(o.loginFile, time.Now())
	if err != nil {
		return fmt.Errorf("--login: %w", err)
	}
	req.SubjectToken, req.SubjectTokenType = tok, token.TokenTypeIDToken
	return nil
}
