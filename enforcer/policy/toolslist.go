package policy

import (
	"encoding/json"
	"errors"
	"fmt"

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
		const reason = "the server sent a tools/list entry that is not a JSON object; fix the MCP server"
		return deny(codes.SchemaMismatch, RuleSchemaHash, "", reason, map[string]any{"reason": reason})
	}
	tool := Normalize(head.Name)
	r := p.rules[tool]
	if r == nil || r.schemaHash == "" {
		return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
	}
	got, err := SchemaHash(entry)
	if err != nil || got != r.schemaHash {
		reason := fmt.Sprintf("the schema of tool %q differs from spec.tool_rules[%d].schema_hash of policy %q; "+
			"review the new schema and set schema_hash to %s", tool, r.index, p.name, got)
		if err != nil {
			reason = fmt.Sprintf("the tools/list entry of tool %q cannot be hashed to check spec.tool_rules[%d].schema_hash of policy %q; fix the MCP server",
				tool, r.index, p.name)
		}
		return deny(codes.SchemaMismatch, RuleSchemaHash, tool, reason,
			map[string]any{"tool": tool, "reason": reason, "expected": r.schemaHash, "actual": got})
	}
	return Decision{Action: ActionAllow, Tool: tool, AuditDecision: AuditAllow}
}

// LoadFailure is the decision for every message while no policy can be
// loaded: nothing is forwarded. A bad signature is -32010; anything else
// -32001.
func LoadFailure(err error) Decision {
	if errors.Is(err, ErrSignatureInvalid) {
		const reason = "the policy's metadata.signature does not verify against the trusted key, so nothing is forwarded; " +
			"re-sign the policy (aip policy sign) with the key that matches, or configure the right trusted key"
		return deny(codes.PolicySignatureInvalid, RuleSignature, "", reason, map[string]any{"reason": reason})
	}
	const reason = "no valid policy is loaded, so nothing is forwarded; fix the policy file (see aip policy lint)"
	return deny(codes.Forbidden, "policy", "", reason, map[string]any{"reason": reason})
}
