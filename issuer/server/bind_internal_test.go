package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
)

func TestSealer(t *testing.T) {
	now := time.Now()
	s, err := newSealer([]byte(strings.Repeat("k", 32)), true)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := s.cookie("a", "/bind", flowState{State: "st"}, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/bind" {
		t.Errorf("cookie attributes %+v", ck)
	}
	req := func(name, value string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/bind/callback", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: value})
		return r
	}
	var got flowState
	if err := s.open(req("a", ck.Value), "a", &got, now); err != nil || got.State != "st" {
		t.Fatalf("open = %+v, %v", got, err)
	}
	// Another replica with the same key continues the flow.
	replica, _ := newSealer([]byte(strings.Repeat("k", 32)), true)
	if err := replica.open(req("a", ck.Value), "a", &got, now); err != nil || got.State != "st" {
		t.Fatalf("replica open = %+v, %v", got, err)
	}
	other, _ := newSealer([]byte(strings.Repeat("x", 32)), true)
	tampered := []byte(ck.Value)
	tampered[len(tampered)/2] ^= 1
	for name, tc := range map[string]struct {
		s     *sealer
		r     *http.Request
		cname string
		at    time.Time
	}{
		"tampered":        {s, req("a", string(tampered)), "a", now},
		"other cookie":    {s, req("b", ck.Value), "b", now},
		"other key":       {other, req("a", ck.Value), "a", now},
		"expired":         {s, req("a", ck.Value), "a", now.Add(2 * time.Minute)},
		"missing":         {s, httptest.NewRequest(http.MethodGet, "/", nil), "a", now},
		"not base64":      {s, req("a", "!!!"), "a", now},
		"too short":       {s, req("a", "AAAA"), "a", now},
		"random key each": {mustSealer(t), req("a", ck.Value), "a", now},
	} {
		t.Run(name, func(t *testing.T) {
			var v flowState
			if err := tc.s.open(tc.r, tc.cname, &v, tc.at); err == nil {
				t.Errorf("open succeeded: %+v", v)
			}
		})
	}
}

func mustSealer(t *testing.T) *sealer {
	s, err := newSealer(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// bindServer is a Server with only what the bind handlers use.
func bindServer(t *testing.T) (*Server, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	reg, err := registry.OpenFile(registry.FileConfig{Path: filepath.Join(dir, "registry.json")})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := dpop.NewKey("")
	for _, a := range []registry.Agent{
		{ID: "bot", Name: "Bot", PublicKey: &jose.JSONWebKey{Key: k.Public()}, Capabilities: []string{"read_file", "search"}, AllowedGroups: []string{"eng"}},
	} {
		if _, err := reg.Create(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	revs, _ := revocation.NewLocal(revocation.LocalConfig{})
	binds, err := binding.OpenFile(binding.FileConfig{Path: filepath.Join(dir, "bindings.json")})
	if err != nil {
		t.Fatal(err)
	}
	var auditBuf bytes.Buffer
	f, err := newBindFlow(SSO{Provider: token.IdentityProvider{IssuerURL: "https://idp.test"}, ClientID: "c",
		RedirectURL: "https://issuer.test/bind/callback", DefaultTTL: 8 * time.Hour, MaxTTL: 24 * time.Hour}, true)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{IssuerURL: "https://issuer.test", Registry: reg, Revocations: revs, Bindings: binds,
		Audit: audit.NewWriter(&auditBuf, audit.Config{}), Logger: slog.New(slog.DiscardHandler), Now: time.Now}, bind: f}
	return s, &auditBuf
}

// consent posts the consent form with a consent cookie for user.
func consent(t *testing.T, s *Server, cs *consentState, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, bindConsent, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cs != nil {
		ck, err := s.bind.seal.cookie(consentCookie, bindPath, cs, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	e := echo.New()
	if err := bindHeaders(s.bindConsent)(e.NewContext(r, rec)); err != nil {
		t.Fatalf("handler error: %v", err)
	}
	return rec
}

func TestBindConsent(t *testing.T) {
	alice := consentState{User: "alice-sub", Email: "alice@example.com", Issuer: "https://idp.test", Groups: []string{"eng"},
		AuthTime: time.Now().Unix(), Agent: "bot", CSRF: "the-csrf-token"}
	mallory := alice
	mallory.User, mallory.Groups = "mallory", []string{"sales"}
	good := url.Values{"csrf_token": {"the-csrf-token"}, "scope": {"search"}, "duration": {"1h0m0s"}}
	with := func(k string, v ...string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f[k] = v
		return f
	}
	tests := []struct {
		name   string
		cs     *consentState
		form   url.Values
		status int
		text   string
	}{
		{"no cookie", nil, good, http.StatusForbidden, "Consent expired"},
		{"no csrf", &alice, with("csrf_token"), http.StatusForbidden, "security token"},
		{"wrong csrf", &alice, with("csrf_token", "guess"), http.StatusForbidden, "security token"},
		{"not a capability", &alice, with("scope", "search", "delete_all"), http.StatusBadRequest, "not one of this agent"},
		{"no scope", &alice, with("scope"), http.StatusBadRequest, "at least one tool"},
		{"too long", &alice, with("duration", "48h"), http.StatusBadRequest, "offered durations"},
		{"not allowed", &mallory, good, http.StatusForbidden, "not among the people or groups"},
		{"ok", &alice, good, http.StatusOK, "Agent bound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, auditBuf := bindServer(t)
			rec := consent(t, s, tt.cs, tt.form)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.text) {
				t.Fatalf("status %d, body %s; want %d with %q", rec.Code, body, tt.status, tt.text)
			}
			h := rec.Header()
			if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Referrer-Policy") != "no-referrer" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Errorf("headers %v", h)
			}
			bs, _ := s.cfg.Bindings.List(context.Background(), binding.Filter{})
			if tt.status != http.StatusOK {
				if len(bs) != 0 {
					t.Errorf("a refused consent stored %+v", bs)
				}
				return
			}
			if len(bs) != 1 || bs[0].User != "alice-sub" || strings.Join(bs[0].Scopes, " ") != "search" ||
				bs[0].Expiry.Sub(bs[0].CreatedAt) > time.Hour {
				t.Errorf("bindings %+v", bs)
			}
			if !strings.Contains(auditBuf.String(), "binding created "+bs[0].ID) || strings.Contains(auditBuf.String(), "the-csrf-token") {
				t.Errorf("audit %s", auditBuf.String())
			}
		})
	}
}

func TestBindStartRefusals(t *testing.T) {
	s, _ := bindServer(t)
	if _, err := s.cfg.Registry.UpdateStatus(context.Background(), "bot", registry.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"": "Unknown agent", "?agent=nobody": "Unknown agent", "?agent=bot": "Agent not active"} {
		r := httptest.NewRequest(http.MethodGet, bindPath+q, nil)
		rec := httptest.NewRecorder()
		if err := bindHeaders(s.bindStart)(echo.New().NewContext(r, rec)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rec.Body.String(), "<h1>"+want+"</h1>") || !strings.Contains(rec.Body.String(), `<html lang="en">`) {
			t.Errorf("GET /bind%s: %d %s", q, rec.Code, rec.Body.String())
		}
	}
	// A callback without the flow cookie (not started here) is refused.
	r := httptest.NewRequest(http.MethodGet, bindCallback+"?code=x&state=y", nil)
	rec := httptest.NewRecorder()
	if err := s.bindCallback(echo.New().NewContext(r, rec)); err != nil || rec.Code != http.StatusBadRequest {
		t.Errorf("callback without cookie: %d, %v", rec.Code, err)
	}
}
