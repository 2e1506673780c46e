package issuer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/token"
)

// running is an issuer serving on a loopback port.
type running struct {
	URL    string
	Issuer *issuer.Issuer
	dir    string
	now    func() time.Time // the agent's clock for DPoP proofs; nil: time.Now
}

// startIssuer serves an issuer whose configuration is extra (YAML keys)
// over a local-signer, file-store base, on a free loopback port.
func startIssuer(t *testing.T, extra string, opts issuer.Options) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := "http://" + ln.Addr().String()
	yaml := fmt.Sprintf("listen: %q\nissuer_url: %q\naudit: {path: %q}\n", ln.Addr().String(), base, filepath.Join(dir, "audit.jsonl"))
	if !strings.Contains(extra, "signer:") {
		yaml += fmt.Sprintf("signer: {type: local, key_file: %q}\n", filepath.Join(dir, "key.pem"))
	}
	if !strings.Contains(extra, "store:") {
		yaml += fmt.Sprintf("store: {type: file, path: %q}\n", filepath.Join(dir, "store"))
	}
	cfg, err := config.Parse([]byte(yaml + extra))
	if err != nil {
		_ = ln.Close()
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	is, err := issuer.New(ctx, cfg, opts)
	if err != nil {
		cancel()
		_ = ln.Close()
		t.Fatalf("issuer.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- is.Server.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = is.Close()
	})
	return &running{URL: base, Issuer: is, dir: dir}
}

func dexIDP(issuerURL, audience string) string {
	return fmt.Sprintf("identity_providers: [{name: dex, issuer_url: %q, audience: %q}]\nadmins: {oidc_groups: [aip-admins]}\n", issuerURL, audience)
}

type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r reply) field(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	s, _ := m[name].(string)
	return s
}

func call(t *testing.T, method, u string, hdr http.Header, body string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// registerAgent registers an agent through the admin API.
func (r *running) registerAgent(t *testing.T, adminToken string, agent map[string]any) {
	t.Helper()
	b, err := json.Marshal(agent)
	if err != nil {
		t.Fatal(err)
	}
	got := call(t, http.MethodPost, r.URL+"/v1/agents", http.Header{
		"Authorization": {"Bearer " + adminToken}, "Content-Type": {"application/json"}}, string(b))
	if got.Status != http.StatusCreated {
		t.Fatalf("register agent: %d %s", got.Status, got.Body)
	}
}

func publicJWK(k *dpop.Key) jose.JSONWebKey { return jose.JSONWebKey{Key: k.Public()} }

// exchange asks for an AAT with userToken, the agent proving itself by a
// DPoP proof of k (when set) and/or actorToken.
func (r *running) exchange(t *testing.T, userToken string, k *dpop.Key, actorToken string) reply {
	t.Helper()
	f := url.Values{
		"grant_type":         {token.GrantTypeTokenExchange},
		"subject_token":      {userToken},
		"subject_token_type": {token.TokenTypeIDToken},
		"audience":           {"https://mcp.test/files"},
	}
	if actorToken != "" {
		f.Set("actor_token", actorToken)
		f.Set("actor_token_type", token.TokenTypeJWT)
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if k != nil {
		p, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: r.URL + "/v1/token", Now: r.now})
		if err != nil {
			t.Fatal(err)
		}
		hdr.Set("DPoP", p)
	}
	return call(t, http.MethodPost, r.URL+"/v1/token", hdr, f.Encode())
}

// verifyAAT checks an AAT against the issuer's published JWKS, as an
// enforcer does.
func (r *running) verifyAAT(t *testing.T, raw string) *aat.Claims {
	t.Helper()
	src, err := aat.NewJWKSSource(aat.JWKSConfig{URL: r.URL + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := aat.NewVerifier(aat.Config{Issuers: map[string]aat.KeySource{r.URL: src}, Audience: "https://mcp.test/files"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("AAT does not verify against %s/.well-known/jwks.json: %v", r.URL, err)
	}
	return c
}
