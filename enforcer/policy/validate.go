package policy

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aip-project/aip/internal/keypath"
)

// Accepted values.
var (
	apiVersions = []string{"aip.io/v1alpha1", "aip.io/v1alpha2", "aip.io/v1alpha3"}
)

const kindAgentPolicy = "AgentPolicy"

// validate checks the values of a decoded document and returns every
// problem found.
func validate(doc *Document) keypath.Problems {
	var ps keypath.Problems
	switch {
	case doc.APIVersion == "":
		ps.Add("apiVersion", "required (one of %s)", strings.Join(apiVersions, ", "))
	case !oneOf(doc.APIVersion, apiVersions...):
		ps.Add("apiVersion", "unknown version %q (want one of %s)", doc.APIVersion, strings.Join(apiVersions, ", "))
	}
	if doc.Kind != kindAgentPolicy {
		ps.Add("kind", "must be %q, got %q", kindAgentPolicy, doc.Kind)
	}
	if strings.TrimSpace(doc.Metadata.Name) == "" {
		ps.Add("metadata.name", "required")
	}
	if sig := doc.Metadata.Signature; sig != "" {
		if _, err := decodeSignature(sig); err != nil {
			ps.Add("metadata.signature", "%v", err)
		}
	}
	s := &doc.Spec
	if !oneOf(s.Mode, "", ModeEnforce, ModeMonitor) {
		ps.Add("spec.mode", "must be %q or %q, got %q", ModeEnforce, ModeMonitor, s.Mode)
	}
	for _, l := range []struct {
		path  string
		names []string
	}{
		{"spec.allowed_tools", s.AllowedTools},
		{"spec.allowed_methods", s.AllowedMethods},
		{"spec.denied_methods", s.DeniedMethods},
	} {
		for i, v := range l.names {
			if Normalize(v) == "" {
				ps.Add(keypath.Index(l.path, i), "must not be empty")
			}
		}
	}
	seen := make(map[string]int, len(s.ToolRules))
	for i, r := range s.ToolRules {
		ps = append(ps, validateRule(keypath.Index("spec.tool_rules", i), r)...)
		name := Normalize(r.Tool)
		if j, dup := seen[name]; dup && name != "" {
			ps.Add(keypath.Index("spec.tool_rules", i)+".tool", "duplicate rule for %q (first in spec.tool_rules[%d])", name, j)
		}
		seen[name] = i
	}
	for i, p := range s.ProtectedPaths {
		path := keypath.Index("spec.protected_paths", i)
		if strings.TrimSpace(p) == "" {
			ps.Add(path, "must not be empty")
		}
	}
	if s.DLP != nil {
		ps = append(ps, validateDLP(s.DLP)...)
	}
	return ps
}

func validateRule(path string, r ToolRule) keypath.Problems {
	var ps keypath.Problems
	if Normalize(r.Tool) == "" {
		ps.Add(path+".tool", "required")
	}
	if !oneOf(r.Action, "", ruleAllow, ruleBlock, ruleAsk) {
		ps.Add(path+".action", "must be allow, block or ask, got %q", r.Action)
	}
	for _, name := range sortedKeys(r.AllowArgs) {
		re := r.AllowArgs[name]
		if name == "" {
			ps.Add(path+".allow_args", "argument name must not be empty")
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			ps.Add(path+".allow_args."+name, "invalid RE2 regex: %v", err)
		}
	}
	if r.RateLimit != "" {
		if _, err := ParseLimit(r.RateLimit); err != nil {
			ps.Add(path+".rate_limit", "%v", err)
		}
	}
	if r.SchemaHash != "" && !validSchemaHash(r.SchemaHash) {
		ps.Add(path+".schema_hash", "must be sha256:<64 lowercase hex digits>")
	}
	return ps
}

func decodeSignature(sig string) ([]byte, error) {
	b64, ok := strings.CutPrefix(sig, "ed25519:")
	if !ok {
		return nil, fmt.Errorf("must be ed25519:<base64>")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(b64, "="))
	}
	if err != nil || len(raw) != 64 {
		return nil, fmt.Errorf("must be ed25519:<base64 of a 64-byte signature>")
	}
	return raw, nil
}

func validSchemaHash(h string) bool {
	hex, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}
