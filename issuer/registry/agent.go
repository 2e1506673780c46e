package registry

import (
	"fmt"
	"slices"
	"time"
	"unicode"

	"github.com/go-jose/go-jose/v4"
	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/agentid"
)

// Status is an agent's lifecycle state.
type Status string

// Agent statuses. Revoked is terminal.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	StatusRevoked   Status = "revoked"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusSuspended || s == StatusRevoked
}

// Limits on free-text fields and lists.
const (
	maxTextLen  = 256
	maxListLen  = 1024
	maxEntryLen = 256
)

// Agent is one registered agent.
type Agent struct {
	ID       string `json:"agent_id"`
	SPIFFEID string `json:"spiffe_id,omitempty"`
	// PublicKey is the agent's native AIP key (Ed25519 or P-256, public).
	PublicKey *jose.JSONWebKey `json:"public_key,omitempty"`
	// KeyThumbprint is the RFC 7638 SHA-256 thumbprint of PublicKey,
	// base64url without padding (the DPoP "jkt"). Stores compute it.
	KeyThumbprint string    `json:"public_key_thumbprint,omitempty"`
	Name          string    `json:"name,omitempty"`
	Owner         string    `json:"owner,omitempty"`
	Capabilities  []string  `json:"capabilities"`
	AllowedUsers  []string  `json:"allowed_users,omitempty"`
	AllowedGroups []string  `json:"allowed_groups,omitempty"`
	Status        Status    `json:"status"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate checks every field and reports the first problem, wrapped in
// ErrInvalid. It does not check KeyThumbprint; use Prepare for that.
func (a *Agent) Validate() error {
	if err := agentid.Validate(a.ID); err != nil {
		return fmt.Errorf("%w: agent_id: %w", ErrInvalid, err)
	}
	if a.SPIFFEID == "" && a.PublicKey == nil {
		return fmt.Errorf("%w: agent %q needs a spiffe_id or a public_key", ErrInvalid, a.ID)
	}
	if a.SPIFFEID != "" {
		sid, err := spiffeid.FromString(a.SPIFFEID)
		if err != nil {
			return fmt.Errorf("%w: spiffe_id: %w", ErrInvalid, err)
		}
		if sid.String() != a.SPIFFEID {
			return fmt.Errorf("%w: spiffe_id: not in canonical form", ErrInvalid)
		}
	}
	if a.PublicKey != nil {
		if err := CheckPublicKey(a.PublicKey); err != nil {
			return err
		}
	}
	if !a.Status.Valid() {
		return fmt.Errorf("%w: status %q: must be active, suspended or revoked", ErrInvalid, a.Status)
	}
	for _, f := range []struct{ name, v string }{{"name", a.Name}, {"owner", a.Owner}} {
		if err := checkText(f.v); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, f.name, err)
		}
	}
	for _, l := range []struct {
		name string
		v    []string
	}{{"capabilities", a.Capabilities}, {"allowed_users", a.AllowedUsers}, {"allowed_groups", a.AllowedGroups}} {
		if err := checkList(l.v); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, l.name, err)
		}
	}
	return nil
}

// Prepare returns a copy of a ready to be created at now: status active
// when unset, timestamps set, the public key reduced to its public part and
// the thumbprint computed. It validates the result.
func Prepare(a Agent, now time.Time) (*Agent, error) {
	c := a.clone()
	if c.Status == "" {
		c.Status = StatusActive
	}
	if c.Status == StatusRevoked {
		return nil, fmt.Errorf("%w: an agent cannot be created revoked", ErrInvalid)
	}
	c.CreatedAt, c.UpdatedAt = now.UTC(), now.UTC()
	if c.Capabilities == nil {
		c.Capabilities = []string{}
	}
	c.KeyThumbprint = ""
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.PublicKey != nil {
		pub := c.PublicKey.Public()
		c.PublicKey = &pub
		jkt, err := Thumbprint(c.PublicKey)
		if err != nil {
			return nil, err
		}
		c.KeyThumbprint = jkt
	}
	return c, nil
}

// clone returns a deep copy of a.
func (a *Agent) clone() *Agent {
	c := *a
	if a.PublicKey != nil {
		k := *a.PublicKey
		c.PublicKey = &k
	}
	c.Capabilities = slices.Clone(a.Capabilities)
	c.AllowedUsers = slices.Clone(a.AllowedUsers)
	c.AllowedGroups = slices.Clone(a.AllowedGroups)
	return &c
}

func checkText(s string) error {
	if len(s) > maxTextLen {
		return fmt.Errorf("longer than %d bytes", maxTextLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("control or invalid character")
		}
	}
	return nil
}

func checkList(l []string) error {
	if len(l) > maxListLen {
		return fmt.Errorf("more than %d entries", maxListLen)
	}
	seen := make(map[string]struct{}, len(l))
	for i, v := range l {
		if v == "" || len(v) > maxEntryLen {
			return fmt.Errorf("[%d]: must be 1 to %d bytes", i, maxEntryLen)
		}
		if err := checkText(v); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		if _, dup := seen[v]; dup {
			return fmt.Errorf("[%d]: duplicate %q", i, v)
		}
		seen[v] = struct{}{}
	}
	return nil
}
