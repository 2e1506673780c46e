package issuer

import (
	"fmt"
	"time"

	"github.com/aip-project/aip/internal/glob"
	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/token"
)

// newCIVerifier builds the verifier of CI tokens trusted by the ci_trust
// policies ps, recording exchanged tokens in replay.
func newCIVerifier(ps []config.CIPolicy, replay nonce.Store, now func() time.Time) (*token.CIVerifier, error) {
	policies, err := ciPolicies(ps)
	if err != nil {
		return nil, err
	}
	return token.NewCIVerifier(token.CIConfig{Policies: policies, Replay: replay, Now: now})
}

// ciPolicies compiles the validated ci_trust policies for the CI token
// verifier. The config has checked every pattern, so an error here is a
// bug, reported rather than ignored.
func ciPolicies(ps []config.CIPolicy) ([]token.CIPolicy, error) {
	out := make([]token.CIPolicy, 0, len(ps))
	for _, p := range ps {
		conds := make([]token.CICondition, 0, len(p.Conditions))
		for _, c := range p.Conditions {
			g, err := glob.Compile(c.Pattern)
			if err != nil {
				return nil, fmt.Errorf("ci_trust %q: condition on %s: %w", p.Name, c.Claim, err)
			}
			conds = append(conds, token.CICondition{Claim: c.Claim, Pattern: g})
		}
		out = append(out, token.CIPolicy{Name: p.Name, Issuer: p.Issuer, Audience: p.Audience, JWKSURL: p.JWKSURL,
			Conditions: conds, Agent: p.Agent, Tools: p.Tools, TTL: p.TTL})
	}
	return out, nil
}
