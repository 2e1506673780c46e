package agent_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/identity/agent"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/token"
	"github.com/aip-project/aip/test/issuertest"
)

const (
	aliceID = "CgphbGljZS0wMDAxEgVsb2NhbA" // Dex's sub: user id + connector
	bobID   = "Cgdib2ItMDAwMhIFbG9jYWw"
)

// bindingSetup is a running issuer holding bindings (people who bound
// the agent "coder" through SSO), the agent's key and an MCP server.
func bindingSetup(t *testing.T, c *clock, bindings ...binding.Binding) *setup {
	t.Helper()
	s := &setup{clock: c, fetches: &countingTransport{}}
	s.issuerURL, s.issuer = issuertest.Start(t, issuertest.Options{LocalUser: localUser, Now: c.Now, Bindings: bindings})
	var err error
	if s.key, err = dpop.NewKey(""); err != nil {
		t.Fatal(err)
	}
	var people []string
	for _, b := range bindings {
		people = append(people, b.User)
	}
	if _, err := s.issuer.Registry().Create(context.Background(), registry.Agent{ID: "coder", PublicKey: &jose.JSONWebKey{Key: s.key.Public()},
		Capabilities: []string{"read_file", "search", "write_file"}, AllowedUsers: people}); err != nil {
		t.Fatal(err)
	}
	s.server = startMCPServer(t, s.issuerURL, c, filesServer())
	return s
}

// bound is a binding of "coder" by user for tools, for a day from now.
func bound(c *clock, user, email string, tools ...string) binding.Binding {
	return binding.Binding{User: user, Email: email, Issuer: "http://127.0.0.1:5556", Agent: "coder", Scopes: tools,
		Expiry: c.Now().Add(24 * time.Hour), AuthTime: c.Now().Add(-time.Minute)}
}

// onBinding configures s's agent with its key only, on binding b.
func onBinding(b *agent.Binding) func(*agent.Config) {
	return func(c *agent.Config) { c.LocalUser, c.Binding = "", b }
}

// An agent bound by one person calls a tool through the MCP Go SDK with
// its key alone: the AATs are that person's, with the tools they allowed.
func TestMCPClientOnBinding(t *testing.T) {
	c := newClock()
	s := bindingSetup(t, c, bound(c, aliceID, "alice@example.com", "read_file", "search"))
	callReadFile(t, s.transport(t, onBinding(&agent.Binding{})), s.server.URL)

	_, failures, _ := s.server.seen()
	claims := s.server.accepted()
	if len(failures) > 0 || len(claims) == 0 {
		t.Fatalf("server refused: %v", failures)
	}
	for _, cl := range claims {
		switch {
		case cl.Subject != aliceID || cl.UserBinding.UserID != aliceID:
			t.Fatalf("sub %q user_id %q, want the bound person %q", cl.Subject, cl.UserBinding.UserID, aliceID)
		case !slices.Equal(cl.Capabilities.Tools, []string{"read_file", "search"}):
			t.Fatalf("tools %v, want the bound ones", cl.Capabilities.Tools)
		case cl.UserBinding.AuthMethod != token.AuthMethodSSOBinding || !strings.HasPrefix(cl.SessionID, "bnd_"):
			t.Fatalf("auth_method %q session %q", cl.UserBinding.AuthMethod, cl.SessionID)
		case cl.Actor.Subject != "coder" || cl.Expiry.Time().After(c.Now().Add(24*time.Hour)):
			t.Fatalf("act %q exp %v", cl.Actor.Subject, cl.Expiry.Time())
		}
	}
}

// With several people bound, the agent names one by email or user id;
// naming none, or someone who did not bind it, is refused by the issuer
// and surfaced as a TokenError.
func TestBindingSeveralPeople(t *testing.T) {
	c := newClock()
	s := bindingSetup(t, c, bound(c, aliceID, "alice@example.com", "read_file"),
		bound(c, bobID, "bob@example.com", "search", "write_file"))
	tests := []struct {
		name      string
		binding   agent.Binding
		wantSub   string
		wantTools []string
		wantErr   string
	}{
		{"by email", agent.Binding{User: "bob@example.com"}, bobID, []string{"search", "write_file"}, ""},
		{"by user id", agent.Binding{User: aliceID}, aliceID, []string{"read_file"}, ""},
		{"nobody named", agent.Binding{}, "", nil, "several people bound this agent"},
		{"someone else", agent.Binding{User: "mallory@example.com"}, "", nil, "no active binding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.binding
			tr := s.transport(t, onBinding(&b))
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			n := len(s.server.accepted())
			resp, err := tr.RoundTrip(req)
			if tt.wantErr != "" {
				var te *agent.TokenError
				if !errors.As(err, &te) || te.Code != "invalid_grant" || !strings.Contains(te.Description, tt.wantErr) {
					t.Fatalf("err = %v, want invalid_grant %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			got := s.server.accepted()
			if _, failures, _ := s.server.seen(); len(got) != n+1 {
				t.Fatalf("server failures: %v", failures)
			}
			if cl := got[n]; cl.Subject != tt.wantSub || !slices.Equal(cl.Capabilities.Tools, tt.wantTools) {
				t.Fatalf("sub %q tools %v, want %q %v", cl.Subject, cl.Capabilities.Tools, tt.wantSub, tt.wantTools)
			}
		})
	}
}

// The AATs of a binding never outlive it; once it expires the agent gets
// none.
func TestBindingExpiry(t *testing.T) {
	c := newClock()
	b := bound(c, aliceID, "alice@example.com", "read_file")
	b.Expiry = c.Now().Add(2 * time.Minute)
	s := bindingSetup(t, c, b)
	client := s.transport(t, onBinding(&agent.Binding{})).Client()
	do(t, client, http.MethodPost, s.server.URL, `{}`)
	if _, failures, _ := s.server.seen(); len(failures) > 0 {
		t.Fatalf("server refused: %v", failures)
	}
	if exp := s.server.accepted()[0].Expiry.Time(); exp.After(b.Expiry) {
		t.Fatalf("AAT exp %v after the binding's %v", exp, b.Expiry)
	}
	c.Advance(3 * time.Minute)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.server.URL, strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var te *agent.TokenError
	if _, err := client.Do(req); !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("after the binding expired: err = %v, want invalid_grant", err)
	}
}
