package policy

import (
	"encoding/json"
	"errors"

	"github.com/aip-project/aip/enforcer/codes"
)

// AlwaysBlocks reports whether every call to tool would be refused
// whatever its arguments, so the proxy can drop it from a tools/list
// result: a block rule, or neither in allowed_tools nor allowed by a rule.
// In monitor mode nothing is always blocked.
func (p *Policy) AlwaysBlocks(tool string) bool {
	if p.monitor {
		return false
	}
	t := Normalize(tool)
	r := p.rules[t]
	if r != nil {
		return r.action == ruleBlock
	}
	_, listed := p.allowedTools[t]
	return !listed
}

// CheckToolSchema checks one tools/list entry against its rule's
// schema_hash. Tools without a schema_hash pass; a mismatch or an entry
// that cannot be hashed is denied with -32013 (also in monitor mode: it
// means the server changed under the policy).
func (p *Policy) CheckToolSchema(entry json.RawMessage) Decision {
	var head struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(entry, &head); err != nil {
		return deny(codes.SchemaMismatch, RuleSchemaHash, "", "the server sent a tools/list entry that is not a JSON object",
			map[string]any{"reason": "malformed tool entry"})
	}
	tool := Normalize(head.Name)
	r := p.rules[tool]
	if r == nil || r.schemaHash == "" {
		return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
	}
	got, err := SchemaHash(entry)
	if err != nil || got != r.schemaHash {
		return deny(codes.SchemaMismatch, RuleSchemaHash, tool,
			"the schema of tool "+quote(tool)+" differs from the schema_hash pinned in the policy; review the new schema and update schema_hash to "+got,
			map[string]any{"tool": tool, "reason": "schema hash mismatch", "expected": r.schemaHash, "actual": got})
	}
	return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
}

// LoadFailure is the decision for every message while no policy can be
// loaded: nothing is forwarded. A bad signature is -32010; anything else
// -32001.
func LoadFailure(err error) Decision {
	if errors.Is(err, ErrSignatureInvalid) {
		return deny(codes.PolicySignatureInvalid, RuleSignature, "",
			"the policy's signature does not verify against the trusted key; re-sign the policy or fix the key",
			map[string]any{"reason": "policy signature invalid"})
	}
	return deny(codes.Forbidden, "policy", "",
		"no valid policy is loaded, so nothing is forwarded; fix the policy file (see aip policy lint)",
		map[string]any{"reason": "no policy loaded"})
}
