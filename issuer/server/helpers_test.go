package server_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/server"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/issuer/token"
)

const (
	issuerURL = "https://issuer.test"
	idpURL    = "https://idp.test"
	idpAud    = "aip-cli"
	mcpAud    = "https://mcp.test/files"
)

// idp is a fake OIDC provider: a key whose ID tokens the verifier trusts
// through a static key set (Dex is the real one in the integration tests).
type idp struct {
	key *ecdsa.PrivateKey
	iss string
}

func newIDP(t *testing.T, iss string) *idp {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &idp{key: k, iss: iss}
}

func (p *idp) idToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := map[string]any{"iss": p.iss, "aud": idpAud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	raw, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// harness is an issuer server over a local key, file stores and a fake IdP.
type harness struct {
	srv      *server.Server
	signer   signer.Signer
	reg      registry.Store
	revs     *revocation.Local
	idp      *idp
	auditBuf *syncBuffer
	agentKey *dpop.Key // registered as "bot"
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harnessOpts struct {
	signer signer.Signer      // nil: a local key file
	replay nonce.Store        // nil: a fresh nonce.Memory
	local  server.LocalAdmins // the admin socket's
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{idp: newIDP(t, idpURL), auditBuf: &syncBuffer{}}
	h.signer = o.signer
	if h.signer == nil {
		l, err := signer.OpenLocalFile(signer.LocalConfig{Path: filepath.Join(dir, "key.pem")})
		if err != nil {
			t.Fatal(err)
		}
		h.signer = l
	}
	reg, err := registry.OpenFile(registry.FileConfig{Path: filepath.Join(dir, "registry.json")})
	if err != nil {
		t.Fatal(err)
	}
	h.reg = reg
	if h.revs, err = revocation.NewLocal(revocation.LocalConfig{}); err != nil {
		t.Fatal(err)
	}
	oidcV, err := token.NewOIDCVerifier(token.OIDCConfig{Providers: []token.IdentityProvider{{
		Name: "test", IssuerURL: idpURL, Audience: idpAud,
		KeySet: &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&h.idp.key.PublicKey}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	replay := o.replay
	if replay == nil {
		replay = nonce.NewMemory(nonce.MemoryConfig{})
	}
	aw := audit.NewWriter(h.auditBuf, audit.Config{})
	ex, err := token.NewExchanger(token.Config{
		Issuer:      issuerURL,
		Agents:      &token.AgentVerifier{Audience: issuerURL, Replay: replay},
		Subjects:    token.Subjects{OIDC: oidcV},
		Registry:    reg,
		Revocations: h.revs,
		Signer:      h.signer,
		Audit:       aw,
		Policies:    map[string]string{mcpAud: "sha256:abc"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv, err = server.New(server.Config{
		IssuerURL: issuerURL, Exchanger: ex, Signer: h.signer, Registry: reg, Revocations: h.revs, Audit: aw,
		Admins: server.Admins{Groups: []string{"aip-admins"}, OIDC: oidcV}, LocalAdmins: o.local,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.agentKey = h.register(t, "bot", registry.StatusActive)
	return h
}

// register adds an agent with a fresh native key, allowed for alice and
// the eng group, with three tools.
func (h *harness) register(t *testing.T, id string, status registry.Status) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.reg.Create(context.Background(), registry.Agent{
		ID: id, PublicKey: &jose.JSONWebKey{Key: k.Public()}, Capabilities: []string{"read_file", "search", "write_file"},
		AllowedUsers: []string{"alice"}, AllowedGroups: []string{"eng"}, Status: status,
	}); err != nil {
		t.Fatal(err)
	}
	return k
}

func proof(t *testing.T, k *dpop.Key, rawURL string) string {
	t.Helper()
	p, err := dpop.Proof(k, dpop.Options{Method: http.MethodPost, URL: rawURL})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// form is a valid token request for user claims, to be edited by cases.
func (h *harness) form(t *testing.T, claims map[string]any) url.Values {
	return url.Values{
		"grant_type":         {token.GrantTypeTokenExchange},
		"subject_token":      {h.idp.idToken(t, claims)},
		"subject_token_type": {token.TokenTypeIDToken},
		"audience":           {mcpAud},
	}
}

func (h *harness) do(t *testing.T, method, path string, body string, hdr http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, issuerURL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return v
}

func newKey(t *testing.T) (*dpop.Key, error) {
	t.Helper()
	k, err := dpop.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return k, nil
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}
