package enforcer

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// maxSchemas bounds the tools/list entries remembered for schema checks.
const maxSchemas = 4096

// filterToolsList removes from a tools/list result the tools the policy
// always blocks, those the Caller's token does not grant, and those whose
// schema does not match their schema_hash;
// the latter are remembered, so calls to them get -32013 until a
// tools/list or a new policy shows them matching. ok is false when the
// result cannot be read: the caller withholds it.
func (e *Engine) filterToolsList(ctx context.Context, s *state, m *jsonrpc.Message, result json.RawMessage) (json.RawMessage, bool) {
	members, err := jsonrpc.Members(result)
	if err != nil {
		return nil, false
	}
	ti := -1
	for i, mb := range members {
		if mb.Name == "tools" {
			ti = i
		}
	}
	if ti < 0 {
		return result, true
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(members[ti].Value, &entries); err != nil {
		return nil, false
	}
	kept := make([]json.RawMessage, 0, len(entries))
	var hidden, ungranted []string
	caller, _ := CallerFrom(ctx)
	e.schemaMu.Lock()
	cur := e.state.Load()
	for _, entry := range entries {
		var head struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(entry, &head); err != nil {
			e.schemaMu.Unlock()
			return nil, false
		}
		tool := policy.Normalize(head.Name)
		if _, seen := e.schemas[tool]; seen || len(e.schemas) < maxSchemas {
			e.schemas[tool] = append([]byte(nil), entry...)
		}
		if s.policy.AlwaysBlocks(head.Name) {
			hidden = append(hidden, tool)
			continue
		}
		if !caller.grants(tool) {
			ungranted = append(ungranted, tool)
			continue
		}
		if d := s.policy.CheckToolSchema(entry); !d.Action.Forward() {
			e.log.Warn("tool hidden: its schema does not match schema_hash", "tool", tool)
			e.appendAudit(e.downRecord(ctx, s, m, call{method: methodToolsList, tool: tool}, d, nil))
			continue
		}
		kept = append(kept, entry)
	}
	cur.mismatched.Store(e.mismatchesLocked(cur.policy))
	e.schemaMu.Unlock()

	if len(kept) == len(entries) {
		return result, true
	}
	if len(hidden) > 0 || len(ungranted) > 0 {
		d := policy.Decision{Action: policy.ActionAllow, AuditDecision: policy.AuditAllow, Reason: hiddenReason(hidden, ungranted)}
		if !e.appendAudit(e.downRecord(ctx, s, m, call{method: methodToolsList}, d, nil)) {
			return nil, false
		}
	}
	list, err := json.Marshal(kept)
	if err != nil {
		return nil, false
	}
	members[ti].Value = list
	return writeObject(members), true
}

// hiddenReason says which tools a tools/list result lost, and why.
func hiddenReason(blocked, ungranted []string) string {
	var parts []string
	if len(blocked) > 0 {
		sort.Strings(blocked)
		parts = append(parts, "hid tools the policy always blocks: "+strings.Join(blocked, ", "))
	}
	if len(ungranted) > 0 {
		sort.Strings(ungranted)
		parts = append(parts, "hid tools the token does not grant: "+strings.Join(ungranted, ", "))
	}
	return "tools/list: " + strings.Join(parts, "; ")
}

// mismatchesLocked checks every remembered tools/list entry against p's
// schema hashes. e.schemaMu must be held.
func (e *Engine) mismatchesLocked(p *policy.Policy) *map[string]policy.Decision {
	out := make(map[string]policy.Decision)
	for tool, entry := range e.schemas {
		if d := p.CheckToolSchema(entry); !d.Action.Forward() {
			out[tool] = d
		}
	}
	return &out
}

func writeObject(ms []jsonrpc.Member) json.RawMessage {
	b := []byte{'{'}
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(m.Name) // strings always marshal
		b = append(b, name...)
		b = append(b, ':')
		b = append(b, m.Value...)
	}
	return append(b, '}')
}
