package token

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/binding"
)

type bindingList []binding.Binding

func (l bindingList) List(_ context.Context, f binding.Filter) ([]binding.Binding, error) {
	return slices.DeleteFunc(slices.Clone(l), func(b binding.Binding) bool { return b.Agent != f.Agent }), nil
}

func TestBoundSubjects(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := func(id, user, agent string, expiry time.Duration) binding.Binding {
		return binding.Binding{ID: id, User: user, Email: user + "@example.com", Agent: agent, Scopes: []string{"read"},
			Expiry: now.Add(expiry), AuthTime: now.Add(-time.Hour)}
	}
	list := bindingList{
		b("old", "alice", "solo", time.Hour), b("new", "alice", "solo", 2*time.Hour),
		b("a", "alice", "shared", time.Hour), b("b", "bob", "shared", time.Hour),
		b("gone", "carol", "expired", -time.Second),
	}
	tests := []struct {
		agent, user string
		want        string // binding id, or "" with wantErr
		wantErr     error
	}{
		{"solo", "", "new", nil},
		{"solo", "alice@example.com", "new", nil},
		{"solo", "bob", "", ErrNoBinding},
		{"shared", "", "", ErrSeveralBindings},
		{"shared", "bob", "b", nil},
		{"expired", "", "", ErrNoBinding},
		{"none", "", "", ErrNoBinding},
	}
	for _, tt := range tests {
		t.Run(tt.agent+"/"+tt.user, func(t *testing.T) {
			u, err := boundSubjects{agent: tt.agent, list: list, now: func() time.Time { return now }}.VerifySubject(context.Background(), TokenTypeBinding, tt.user)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || u.SessionID != tt.want || u.AuthMethod != AuthMethodSSOBinding || u.Until.IsZero() || !slices.Equal(u.Scopes, []string{"read"}) {
				t.Fatalf("user = %+v, %v; want binding %s", u, err, tt.want)
			}
		})
	}
	if _, err := (boundSubjects{agent: "solo", now: time.Now}).VerifySubject(context.Background(), TokenTypeBinding, ""); !errors.Is(err, ErrNoBinding) {
		t.Errorf("without a binding store: %v", err)
	}
}

func TestParseRequestBinding(t *testing.T) {
	base := map[string][]string{"grant_type": {GrantTypeTokenExchange}, "audience": {"mcp"}}
	r, err := ParseRequest(base)
	if err != nil || r.SubjectTokenType != TokenTypeBinding || r.SubjectToken != "" {
		t.Errorf("no subject: %+v, %v", r, err)
	}
	named := map[string][]string{"grant_type": {GrantTypeTokenExchange}, "subject_token": {"alice"}, "subject_token_type": {TokenTypeBinding}}
	if r, err := ParseRequest(named); err != nil || r.SubjectToken != "alice" {
		t.Errorf("named: %+v, %v", r, err)
	}
	// A token without its type, or a type without a token, is still refused.
	for _, f := range []map[string][]string{
		{"grant_type": {GrantTypeTokenExchange}, "subject_token": {"x"}},
		{"grant_type": {GrantTypeTokenExchange}, "subject_token_type": {TokenTypeIDToken}},
	} {
		if _, err := ParseRequest(f); err == nil {
			t.Errorf("ParseRequest(%v) succeeded", f)
		}
	}
}
