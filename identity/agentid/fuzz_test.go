package agentid_test

import (
	"errors"
	"testing"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/agentid"
)

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"a", "billing-bot", "a.b_c-d", "", "..", "A", "a/b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if agentid.Validate(id) != nil {
			return
		}
		// A valid agent id is always a valid SPIFFE path segment.
		if err := spiffeid.ValidatePath("/" + id); err != nil {
			t.Fatalf("valid agent id %q is not a valid path segment: %v", id, err)
		}
	})
}

// FuzzParseSPIFFEID checks that parsing never panics and that every
// accepted ID round-trips exactly through ToSPIFFEID.
func FuzzParseSPIFFEID(f *testing.F) {
	for _, s := range []string{
		"spiffe://example.org/agent/a",
		"spiffe://example.org/agent/a/v1",
		"spiffe://example.org/agent",
		"spiffe://EXAMPLE.org/agent/a",
		"spiffe://example.org/agent/../a",
		"spiffe://example.org//agent/a",
		"spiffe://example.org/agent/a?x=1",
		"spiffe://example.org/agent/a#f",
		"spiffe://u@example.org/agent/a",
		"spiffe://example.org:80/agent/a",
	} {
		f.Add(s, "")
		f.Add(s, "/agent/{agent_id}/v1")
	}
	td := spiffeid.RequireTrustDomainFromString("example.org")
	f.Fuzz(func(t *testing.T, raw, tmpl string) {
		s, err := agentid.NewScheme(td, tmpl)
		if err != nil {
			return
		}
		id, err := s.ParseSPIFFEID(raw)
		if err != nil {
			if !errors.Is(err, agentid.ErrInvalid) && !errors.Is(err, agentid.ErrNotAgent) {
				t.Fatalf("ParseSPIFFEID(%q) error %v is neither ErrInvalid nor ErrNotAgent", raw, err)
			}
			return
		}
		back, err := s.ToSPIFFEID(id)
		if err != nil {
			t.Fatalf("ToSPIFFEID(%q) after parsing %q: %v", id, raw, err)
		}
		if back.String() != raw {
			t.Fatalf("round trip %q -> %q -> %q", raw, id, back)
		}
	})
}
