package agentid

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Placeholder is the template segment replaced by the agent id.
const Placeholder = "{agent_id}"

// DefaultTemplate is the path of an agent's SPIFFE ID unless configured.
const DefaultTemplate = "/agent/" + Placeholder

// ErrNotAgent means a SPIFFE ID is well formed but does not follow the
// agent scheme (another trust domain, or another path).
var ErrNotAgent = errors.New("spiffe id is not an agent id of this scheme")

// Scheme maps agent ids to SPIFFE IDs and back within one trust domain.
// The zero value is not usable; build one with NewScheme.
type Scheme struct {
	td     spiffeid.TrustDomain
	prefix string // path before the agent id segment, "" or "/a/b"
	suffix string // path after it, "" or "/c"
}

// NewScheme returns the scheme for trust domain td with the path template
// tmpl. An empty tmpl means DefaultTemplate. The template is an absolute
// SPIFFE ID path in which exactly one whole segment is Placeholder, such as
// "/agent/{agent_id}" or "/ns/prod/agent/{agent_id}/v1".
func NewScheme(td spiffeid.TrustDomain, tmpl string) (Scheme, error) {
	if td.IsZero() {
		return Scheme{}, fmt.Errorf("%w: scheme: trust domain is required", ErrInvalid)
	}
	if tmpl == "" {
		tmpl = DefaultTemplate
	}
	if strings.Count(tmpl, Placeholder) != 1 {
		return Scheme{}, fmt.Errorf("%w: template %q: must contain %s exactly once", ErrInvalid, tmpl, Placeholder)
	}
	prefix, suffix, _ := strings.Cut(tmpl, Placeholder)
	if !strings.HasSuffix(prefix, "/") || (suffix != "" && !strings.HasPrefix(suffix, "/")) {
		return Scheme{}, fmt.Errorf("%w: template %q: %s must be a whole path segment", ErrInvalid, tmpl, Placeholder)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	// Check the fixed parts with a sample id so every produced ID is valid.
	if err := spiffeid.ValidatePath(prefix + "/x" + suffix); err != nil {
		return Scheme{}, fmt.Errorf("%w: template %q: %w", ErrInvalid, tmpl, err)
	}
	return Scheme{td: td, prefix: prefix, suffix: suffix}, nil
}

// TrustDomain returns the scheme's trust domain.
func (s Scheme) TrustDomain() spiffeid.TrustDomain { return s.td }

// Template returns the scheme's path template.
func (s Scheme) Template() string { return s.prefix + "/" + Placeholder + s.suffix }

// ToSPIFFEID returns the SPIFFE ID of agent id.
func (s Scheme) ToSPIFFEID(id string) (spiffeid.ID, error) {
	if s.td.IsZero() {
		return spiffeid.ID{}, fmt.Errorf("%w: scheme not initialized", ErrInvalid)
	}
	if err := Validate(id); err != nil {
		return spiffeid.ID{}, err
	}
	sid, err := spiffeid.FromPath(s.td, s.prefix+"/"+id+s.suffix)
	if err != nil {
		return spiffeid.ID{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return sid, nil
}

// FromSPIFFEID returns the agent id carried by sid. It fails with
// ErrNotAgent if sid is in another trust domain or its path does not match
// the template, and with ErrInvalid if the id segment is not a valid agent
// id.
func (s Scheme) FromSPIFFEID(sid spiffeid.ID) (string, error) {
	if s.td.IsZero() {
		return "", fmt.Errorf("%w: scheme not initialized", ErrInvalid)
	}
	if sid.IsZero() || !sid.MemberOf(s.td) {
		return "", fmt.Errorf("%w: %q is not in trust domain %q", ErrNotAgent, sid.String(), s.td.Name())
	}
	p := sid.Path()
	if !strings.HasPrefix(p, s.prefix+"/") || !strings.HasSuffix(p, s.suffix) {
		return "", fmt.Errorf("%w: %q does not match %q", ErrNotAgent, sid.String(), s.Template())
	}
	start, end := len(s.prefix)+1, len(p)-len(s.suffix)
	if end <= start || strings.Contains(p[start:end], "/") {
		return "", fmt.Errorf("%w: %q does not match %q", ErrNotAgent, sid.String(), s.Template())
	}
	id := p[start:end]
	if err := Validate(id); err != nil {
		return "", fmt.Errorf("spiffe id %q: %w", sid.String(), err)
	}
	return id, nil
}

// ParseSPIFFEID parses a SPIFFE ID string and returns its agent id.
func (s Scheme) ParseSPIFFEID(raw string) (string, error) {
	sid, err := spiffeid.FromString(raw)
	if err != nil {
		return "", fmt.Errorf("%w: spiffe id: %w", ErrInvalid, err)
	}
	return s.FromSPIFFEID(sid)
}
