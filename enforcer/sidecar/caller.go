package sidecar

import (
	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/identity/aat"
)

// identity is who the verified AAT says the caller is, for the Engine's
// audit records and approval requests, with the tools the token grants.
func (c *caller) identity() enforcer.Caller {
	cl := c.claims
	user := cl.UserBinding.UserID
	if user == "" {
		user = cl.Subject
	}
	return enforcer.Caller{AgentID: cl.Agent.ID, UserID: user, AATJTI: cl.ID, SessionID: cl.SessionID,
		Issuer: cl.Issuer, Grants: grants(cl)}
}

// grants reports whether the token grants a tool (capabilities_mode
// intersect: the policy decides the rest). Names are normalized.
func grants(c *aat.Claims) func(tool string) bool {
	granted := make(map[string]bool, len(c.Capabilities.Tools))
	for _, t := range c.Capabilities.Tools {
		granted[policy.Normalize(t)] = true
	}
	return func(tool string) bool { return granted[policy.Normalize(tool)] }
}
