package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// runIDP plays the administrator's single sign-on for the demo: a
// throwaway OIDC provider on loopback (discovery and JWKS) and one ID
// token, written to a file, for a user in the issuer's admin group. The
// embedded issuer has no local admin credential (admins are SPIFFE IDs
// over mTLS or OIDC groups), so this is how the demo calls its admin API.
func runIDP(args []string) error {
	fs := flag.NewFlagSet("idp", flag.ContinueOnError)
	urlFile := fs.String("url-file", "", "write the provider's issuer URL to `FILE` once it listens")
	tokenFile := fs.String("token-file", "", "write the admin's ID token to `FILE` (mode 0600)")
	audience := fs.String("audience", "aip-demo", "the ID token's audience (the issuer's client id)")
	subject := fs.String("subject", "demo-admin", "the admin's user id")
	group := fs.String("group", "aip-admins", "the admin group")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *urlFile == "" || *tokenFile == "" {
		return errors.New("idp: -url-file and -token-file are required")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	iss := "http://" + ln.Addr().String()
	const kid = "demo-idp-1"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": iss, "jwks_uri": iss + "/jwks", "authorization_endpoint": iss + "/authorize",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"EdDSA"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: kid, Algorithm: "EdDSA", Use: "sig"}}})
	})
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return err
	}
	now := time.Now()
	tok, err := jwt.Signed(sig).Claims(map[string]any{
		"iss": iss, "sub": *subject, "aud": *audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": *subject + "@demo.invalid", "groups": []string{*group},
	}).Serialize()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(*urlFile, []byte(iss+"\n"), 0o600); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("idp: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
