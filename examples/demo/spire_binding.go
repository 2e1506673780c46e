package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aip-project/aip/identity/aat"
)

// The agent's side of the SSO binding in `make demo-spire`: Bob bound
// demo-agent at the issuer's /bind pages (scripts/demo-spire.sh, `demo
// sso-bind`); the agent now exchanges its X509-SVID alone for AATs on his
// behalf.

//nolint:gosec // G101: a token type URN, not a secret
const tokenTypeBinding = "urn:aip:params:oauth:token-type:binding"

// onBinding watches the agent SDK's token requests on the binding
// (agent.Config.Binding): it keeps the issuer's last answer, the AAT's
// claims (read, never printed) or the OAuth error.
type onBinding struct {
	base http.RoundTripper

	mu     sync.Mutex
	status int
	code   string // OAuth error, e.g. invalid_grant
	desc   string
	claims *aat.Claims
}

func (b *onBinding) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/v1/token") || req.Body == nil {
		return b.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	if form.Get("subject_token_type") != tokenTypeBinding {
		return nil, fmt.Errorf("token request: subject_token_type %q, want the binding type", form.Get("subject_token_type"))
	}
	req = req.Clone(req.Context())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := b.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read token response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	b.record(resp.StatusCode, answer)
	return resp, nil
}

// record keeps the status and either the OAuth error or the AAT's claims.
func (b *onBinding) record(status int, answer []byte) {
	var r struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(answer, &r)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status, b.code, b.desc, b.claims = status, r.Error, r.Description, nil
	parts := strings.Split(r.AccessToken, ".")
	if len(parts) != 3 {
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c aat.Claims
	if err == nil && json.Unmarshal(payload, &c) == nil {
		b.claims = &c
	}
}

func (b *onBinding) last() (int, string, string, *aat.Claims) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, b.code, b.desc, b.claims
}

// bindingRows: the agent exchanges on Bob's binding, calls a bound tool
// (allowed) and one Bob did not allow (refused), then an administrator
// revokes the binding and the next exchange is refused.
func (s *spireAgent) bindingRows(ctx context.Context, f spireFlags) []row {
	const title = "exchange on the SSO binding"
	raw, err := os.ReadFile(f.bindingFile)
	if err != nil {
		return []row{newRow(title, "sso_binding AAT", false, "no binding id: "+err.Error())}
	}
	id := strings.TrimSpace(string(raw))
	if id == "" {
		return []row{newRow(title, "sso_binding AAT", false, "no binding: the bind step failed")}
	}
	scopes := strings.Split(f.bindingScope, ",")
	user := f.login.user
	say("the agent on %s's binding %s: its X509-SVID alone (mTLS), no ID token; subject_token_type %s, subject_token %s",
		user, id, tokenTypeBinding, user)
	ob := &onBinding{base: s.mtls}
	d, err := connectReplica(ctx, f, s.src, ob, s.mtls, bindingOf(user))
	if err != nil {
		_, code, desc, _ := ob.last()
		return []row{newRow(title, "sso_binding AAT", false, fmt.Sprintf("connect: %v (%s %s)", err, code, desc))}
	}
	_, _, _, c := ob.last()
	var rows []row
	if c == nil {
		rows = append(rows, newRow(title, "sso_binding AAT", false, "no AAT recorded"))
	} else {
		fmt.Printf("   jti %s, sub %s, user_binding.auth_method %s, session_id %s, tools %v, expires %s\n", c.ID, c.Subject,
			c.UserBinding.AuthMethod, c.SessionID, c.Capabilities.Tools, c.Expiry.Time().UTC().Format("15:04:05Z"))
		bound := c.Confirmation != nil && c.Confirmation.X5TS256 != ""
		ok := c.UserBinding.AuthMethod == "sso_binding" && c.SessionID == id && c.Actor.Subject == f.agentID && bound &&
			slices.Equal(slices.Sorted(slices.Values(c.Capabilities.Tools)), slices.Sorted(slices.Values(scopes)))
		rows = append(rows, newRow(title, "sso_binding AAT", ok, fmt.Sprintf("user %s, tools %s, cnf x5t#S256 %v, session %s",
			c.UserBinding.UserID, strings.Join(c.Capabilities.Tools, ","), bound, c.SessionID)))
	}
	rows = append(rows, d.runCalls(ctx, []call{
		{"bound tool allowed", "read_text_file", map[string]any{"path": filepath.Join(f.root, "README.md")}, "allow", false},
		{"tool outside the binding", "write_file", map[string]any{"path": filepath.Join(f.root, "notes.md"), "content": "hi"}, "-32017", false},
	})...)
	_ = d.session.Close()
	return append(rows, s.revokeBinding(ctx, f, id))
}

// revokeBinding revokes the binding with `aip bindings revoke` (as Alice,
// an administrator) and checks that the agent's next exchange is refused.
func (s *spireAgent) revokeBinding(ctx context.Context, f spireFlags, id string) row {
	const title, want = "binding revoked: no exchange", "invalid_grant"
	say("aip bindings revoke %s (as alice@example.com, an admin), then the agent asks for a new AAT on the binding", id)
	out, err := exec.CommandContext(ctx, f.aip, "bindings", "revoke", "--issuer", f.issuer, "--ca", f.ca, //nolint:gosec // the demo's own CLI
		"--admin-token-file", f.adminTokenFile, id).CombinedOutput()
	if err != nil {
		return newRow(title, want, false, fmt.Sprintf("aip bindings revoke failed: %v: %s", err, clip(string(out))))
	}
	fmt.Print(indent(string(out)))
	ob := &onBinding{base: s.mtls}
	d, err := connectReplica(ctx, f, s.src, ob, s.mtls, bindingOf(f.login.user))
	if err == nil {
		_ = d.session.Close()
		return newRow(title, want, false, "the agent still got an AAT on the revoked binding")
	}
	status, code, desc, _ := ob.last()
	detail := fmt.Sprintf("issuer answered %d %s: %s", status, code, desc)
	fmt.Printf("   -> %s\n", detail)
	return newRow(title, want, status == http.StatusBadRequest && code == want, detail)
}
