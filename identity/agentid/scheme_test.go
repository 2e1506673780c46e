package agentid_test

import (
	"errors"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/agentid"
)

func mustScheme(t *testing.T, td, tmpl string) agentid.Scheme {
	t.Helper()
	s, err := agentid.NewScheme(spiffeid.RequireTrustDomainFromString(td), tmpl)
	if err != nil {
		t.Fatalf("NewScheme(%q, %q): %v", td, tmpl, err)
	}
	return s
}

func TestNewScheme(t *testing.T) {
	td := spiffeid.RequireTrustDomainFromString("example.org")
	tests := []struct {
		name string
		td   spiffeid.TrustDomain
		tmpl string
		want string // template, or "" for an error
	}{
		{"default", td, "", "/agent/{agent_id}"},
		{"nested", td, "/ns/prod/agent/{agent_id}", "/ns/prod/agent/{agent_id}"},
		{"suffix", td, "/agent/{agent_id}/v1", "/agent/{agent_id}/v1"},
		{"root segment", td, "/{agent_id}", "/{agent_id}"},
		{"no trust domain", spiffeid.TrustDomain{}, "", ""},
		{"no placeholder", td, "/agent", ""},
		{"two placeholders", td, "/{agent_id}/{agent_id}", ""},
		{"partial segment", td, "/agent-{agent_id}", ""},
		{"partial suffix", td, "/{agent_id}x", ""},
		{"relative", td, "{agent_id}", ""},
		{"dot segment", td, "/../{agent_id}", ""},
		{"empty segment", td, "//{agent_id}", ""},
		{"bad char", td, "/a b/{agent_id}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := agentid.NewScheme(tt.td, tt.tmpl)
			if tt.want == "" {
				if !errors.Is(err, agentid.ErrInvalid) {
					t.Fatalf("NewScheme(%q) = %v, want ErrInvalid", tt.tmpl, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewScheme(%q): %v", tt.tmpl, err)
			}
			if got := s.Template(); got != tt.want {
				t.Fatalf("Template() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestToSPIFFEID(t *testing.T) {
	tests := []struct {
		name, tmpl, id, want string
	}{
		{"default", "", "billing-bot", "spiffe://example.org/agent/billing-bot"},
		{"suffix", "/ns/prod/agent/{agent_id}/v1", "a.b", "spiffe://example.org/ns/prod/agent/a.b/v1"},
		{"invalid id", "", "Bad/Id", ""},
		{"empty id", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustScheme(t, "example.org", tt.tmpl)
			got, err := s.ToSPIFFEID(tt.id)
			if tt.want == "" {
				if !errors.Is(err, agentid.ErrInvalid) {
					t.Fatalf("ToSPIFFEID(%q) = %v, want ErrInvalid", tt.id, err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("ToSPIFFEID(%q) = %q, %v, want %q", tt.id, got, err, tt.want)
			}
		})
	}
}

func TestFromSPIFFEID(t *testing.T) {
	tests := []struct {
		name, tmpl, sid, want string
		err                   error
	}{
		{"default", "", "spiffe://example.org/agent/billing-bot", "billing-bot", nil},
		{"suffix", "/a/{agent_id}/v1", "spiffe://example.org/a/x/v1", "x", nil},
		{"overlapping prefix and suffix", "/a/{agent_id}/a", "spiffe://example.org/a/a", "", agentid.ErrNotAgent},
		{"other trust domain", "", "spiffe://evil.org/agent/billing-bot", "", agentid.ErrNotAgent},
		{"other path", "", "spiffe://example.org/workload/billing-bot", "", agentid.ErrNotAgent},
		{"prefix only", "", "spiffe://example.org/agent", "", agentid.ErrNotAgent},
		{"extra segment", "", "spiffe://example.org/agent/a/b", "", agentid.ErrNotAgent},
		{"missing suffix", "/a/{agent_id}/v1", "spiffe://example.org/a/x", "", agentid.ErrNotAgent},
		{"similar prefix", "", "spiffe://example.org/agentx/a", "", agentid.ErrNotAgent},
		{"uppercase id", "", "spiffe://example.org/agent/Bot", "", agentid.ErrInvalid},
		{"malformed", "", "spiffe://example.org/agent/a%2f", "", agentid.ErrInvalid},
		{"not spiffe", "", "https://example.org/agent/a", "", agentid.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustScheme(t, "example.org", tt.tmpl)
			got, err := s.ParseSPIFFEID(tt.sid)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseSPIFFEID(%q) = %q, %v, want %v", tt.sid, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSPIFFEID(%q) = %q, %v, want %q", tt.sid, got, err, tt.want)
			}
		})
	}
}

func TestZeroScheme(t *testing.T) {
	var s agentid.Scheme
	if _, err := s.ToSPIFFEID("a"); !errors.Is(err, agentid.ErrInvalid) {
		t.Fatalf("ToSPIFFEID on zero scheme = %v, want ErrInvalid", err)
	}
	if _, err := s.FromSPIFFEID(spiffeid.RequireFromString("spiffe://x/agent/a")); !errors.Is(err, agentid.ErrInvalid) {
		t.Fatalf("FromSPIFFEID on zero scheme = %v, want ErrInvalid", err)
	}
}
