package config

import (
	"slices"
	"strings"
	"time"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/agentid"
	"github.com/aip-project/aip/internal/glob"
	"github.com/aip-project/aip/internal/keypath"
)

// Issuers of CI/CD OIDC tokens shared by every customer: a policy for them
// must pin the repository or project owner (see validateCITrust).
const (
	GitHubActionsIssuer = "https://token.actions.githubusercontent.com"
	GitLabComIssuer     = "https://gitlab.com"
)

// CITrustFile is a ci_trust policy: the OIDC tokens of a CI/CD issuer
// whose audience and claims match are exchanged for an AAT of agent.
type CITrustFile struct {
	Name     string `yaml:"name"`
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// JWKSURL is where the issuer's keys are; empty: OIDC discovery.
	JWKSURL string `yaml:"jwks_url"`
	// Conditions map claim names to exact values or globs (`*` within a
	// path segment, `**` across /); all must match.
	Conditions   map[string]string `yaml:"conditions"`
	Agent        string            `yaml:"agent"`
	Capabilities []string          `yaml:"capabilities"`
	// TTL of the AATs; default token.default_ttl, at most token.max_ttl.
	TTL string `yaml:"ttl"`
}

// CIPolicy is a validated ci_trust policy: the issuer compiles it into a
// token.CIPolicy.
type CIPolicy struct {
	Name     string
	Issuer   string // as written: compared exactly with the token's iss
	Audience string
	// JWKSURL is where the issuer's keys are; empty: OIDC discovery.
	JWKSURL string
	// Conditions, sorted by claim, all of which must match.
	Conditions []CICondition
	Agent      string
	Tools      []string // the capabilities
	TTL        time.Duration
}

// CICondition requires claim Claim of a CI token to match Pattern, a
// pattern glob.Compile accepts.
type CICondition struct {
	Claim   string
	Pattern string
}

// ownerClaims are, per shared issuer, the claims one of which must pin
// the owner of the repository or project. A path claim pins it when its
// pattern is exact or its part before the first wildcard holds
// "owner/"; an id claim only when exact. sub pins it after its prefix.
var ownerClaims = map[string]struct {
	paths, ids []string
	subPrefix  string
}{
	GitHubActionsIssuer: {paths: []string{"repository", "repository_owner"}, ids: []string{"repository_id", "repository_owner_id"}, subPrefix: "repo:"},
	GitLabComIssuer:     {paths: []string{"project_path", "namespace_path"}, ids: []string{"project_id", "namespace_id"}, subPrefix: "project_path:"},
}

// validateCITrust checks ci_trust; maxTTL is token.max_ttl (zero when
// that is invalid, then the AAT limit applies).
func validateCITrust(p *keypath.Problems, fs []CITrustFile, maxTTL time.Duration) []CIPolicy {
	if maxTTL <= 0 {
		maxTTL = aat.MaxLifetime
	}
	out := make([]CIPolicy, 0, len(fs))
	names := map[string]bool{}
	jwks := map[string]string{}
	for i, f := range fs {
		path := keypath.Index("ci_trust", i)
		if f.Name == "" {
			p.Add(path+".name", "is required")
		} else if names[f.Name] {
			p.Add(path+".name", "duplicate name %q", f.Name)
		}
		names[f.Name] = true
		// The issuer is kept as written: it is compared exactly with iss.
		checkURL(p, path+".issuer", f.Issuer, true)
		if f.Audience == "" {
			p.Add(path+".audience", "is required (the aud the CI job requests its token for, e.g. the issuer URL)")
		}
		jwksURL := checkURL(p, path+".jwks_url", f.JWKSURL, false)
		if prev, ok := jwks[f.Issuer]; ok && prev != jwksURL {
			p.Add(path+".jwks_url", "differs from another policy of issuer %s", f.Issuer)
		}
		jwks[f.Issuer] = jwksURL
		if err := agentid.Validate(f.Agent); err != nil {
			p.Add(path+".agent", "must be a registered agent id: %v", err)
		}
		if len(f.Capabilities) == 0 {
			p.Add(path+".capabilities", "at least one tool is required")
		}
		for j, c := range f.Capabilities {
			if strings.TrimSpace(c) == "" || slices.Contains(f.Capabilities[:j], c) {
				p.Add(keypath.Index(path+".capabilities", j), "must be a non-empty, unique tool name")
			}
		}
		ttl := duration(p, path+".ttl", f.TTL, maxTTL)
		conds := ciConditions(p, path, f)
		out = append(out, CIPolicy{Name: f.Name, Issuer: f.Issuer, Audience: f.Audience, JWKSURL: jwksURL,
			Conditions: conds, Agent: f.Agent, Tools: f.Capabilities, TTL: ttl})
	}
	return out
}

// ciConditions checks the conditions, sorts them by claim, and refuses a
// policy that accepts every repository or project of a shared issuer.
func ciConditions(p *keypath.Problems, path string, f CITrustFile) []CICondition {
	if len(f.Conditions) == 0 {
		p.Add(path+".conditions", "at least one claim condition is required (e.g. repository or project_path)")
		return nil
	}
	owner, shared := ownerClaims[strings.TrimSuffix(f.Issuer, "/")]
	claims := make([]string, 0, len(f.Conditions))
	for c := range f.Conditions {
		claims = append(claims, c)
	}
	slices.Sort(claims)
	out := make([]CICondition, 0, len(claims))
	pinned := false
	for _, c := range claims {
		g, err := glob.Compile(f.Conditions[c])
		if err != nil {
			p.Add(keypath.Join(path+".conditions", c), "%v", err)
			continue
		}
		if c == "" {
			p.Add(path+".conditions", "a claim name must be non-empty")
			continue
		}
		out = append(out, CICondition{Claim: c, Pattern: g.String()})
		pinned = pinned || (shared && pinsOwner(c, g, owner.paths, owner.ids, owner.subPrefix))
	}
	if shared && !pinned {
		p.Add(path+".conditions", "would accept every repository of the shared issuer %s: pin the owner with an exact %s, or a %s pattern naming the owner (e.g. %q)",
			f.Issuer, strings.Join(owner.ids, " or "), strings.Join(owner.paths, ", ")+" or sub", "my-org/*")
	}
	return out
}

// pinsOwner reports whether the condition that claim match g restricts
// the owner (GitHub organization or user, GitLab top-level group) to one.
func pinsOwner(claim string, g *glob.Glob, paths, ids []string, subPrefix string) bool {
	switch {
	case slices.Contains(ids, claim):
		return g.Literal()
	case slices.Contains(paths, claim):
		return g.Literal() || pinnedPath(g.LiteralPrefix())
	case claim == "sub":
		rest, ok := strings.CutPrefix(g.LiteralPrefix(), subPrefix)
		return ok && pinnedPath(rest)
	}
	return false
}

// pinnedPath: a literal prefix "owner/..." names one owner.
func pinnedPath(prefix string) bool {
	owner, _, found := strings.Cut(prefix, "/")
	return found && owner != ""
}
