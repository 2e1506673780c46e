package policy

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Accepted values.
var (
	apiVersions = []string{"aip.io/v1alpha1", "aip.io/v1alpha2", "aip.io/v1alpha3"}
)

const kindAgentPolicy = "AgentPolicy"

// validate checks the values of a decoded document and returns every
// problem found.
func validate(doc *Document) []Problem {
	var ps []Problem
	add := func(path, format string, a ...any) {
		ps = append(ps, Problem{Path: path, Message: fmt.Sprintf(format, a...)})
	}
	switch {
	case doc.APIVersion == "":
		add("apiVersion", "required (one of %s)", strings.Join(apiVersions, ", "))
	case !oneOf(doc.APIVersion, apiVersions...):
		add("apiVersion", "unknown version %q (want one of %s)", doc.APIVersion, strings.Join(apiVersions, ", "))
	}
	if doc.Kind != kindAgentPolicy {
		add("kind", "must be %q, got %q", kindAgentPolicy, doc.Kind)
	}
	if strings.TrimSpace(doc.Metadata.Name) == "" {
		add("metadata.name", "required")
	}
	if sig := doc.Metadata.Signature; sig != "" {
		if _, err := decodeSignature(sig); err != nil {
			add("metadata.signature", "%v", err)
		}
	}
	s := &doc.Spec
	if !oneOf(s.Mode, "", ModeEnforce, ModeMonitor) {
		add("spec.mode", "must be %q or %q, got %q", ModeEnforce, ModeMonitor, s.Mode)
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
				add(l.path+"["+strconv.Itoa(i)+"]", "must not be empty")
			}
		}
	}
	seen := make(map[string]int, len(s.ToolRules))
	for i, r := range s.ToolRules {
		ps = append(ps, validateRule(fmt.Sprintf("spec.tool_rules[%d]", i), r)...)
		name := Normalize(r.Tool)
		if j, dup := seen[name]; dup && name != "" {
			add(fmt.Sprintf("spec.tool_rules[%d].tool", i), "duplicate rule for %q (first in spec.tool_rules[%d])", name, j)
		}
		seen[name] = i
	}
	for i, p := range s.ProtectedPaths {
		path := fmt.Sprintf("spec.protected_paths[%d]", i)
		if strings.TrimSpace(p) == "" {
			add(path, "must not be empty")
		}
	}
	if s.DLP != nil {
		ps = append(ps, validateDLP(s.DLP)...)
	}
	return ps
}

func validateRule(path string, r ToolRule) []Problem {
	var ps []Problem
	add := func(sub, format string, a ...any) {
		ps = append(ps, Problem{Path: path + sub, Message: fmt.Sprintf(format, a...)})
	}
	if Normalize(r.Tool) == "" {
		add(".tool", "required")
	}
	if !oneOf(r.Action, "", ruleAllow, ruleBlock, ruleAsk) {
		add(".action", "must be allow, block or ask, got %q", r.Action)
	}
	for _, name := range sortedKeys(r.AllowArgs) {
		re := r.AllowArgs[name]
		if name == "" {
			add(".allow_args", "argument name must not be empty")
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			add(".allow_args."+name, "invalid RE2 regex: %v", err)
		}
	}
	if r.RateLimit != "" {
		if _, err := ParseLimit(r.RateLimit); err != nil {
			add(".rate_limit", "%v", err)
		}
	}
	if r.SchemaHash != "" && !validSchemaHash(r.SchemaHash) {
		add(".schema_hash", "must be sha256:<64 lowercase hex digits>")
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
