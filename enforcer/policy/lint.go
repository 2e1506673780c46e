package policy

import (
	"fmt"
	"regexp/syntax"
)

// Warning is a lint finding: valid but probably not what the author meant.
type Warning struct {
	Path    string
	Message string
}

func (w Warning) String() string { return w.Path + ": " + w.Message }

// Lint returns warnings about a valid document, in document order.
func Lint(doc *Document) []Warning {
	var ws []Warning
	add := func(path, format string, a ...any) {
		ws = append(ws, Warning{Path: path, Message: fmt.Sprintf(format, a...)})
	}
	s := &doc.Spec
	if s.Mode == ModeMonitor {
		add("spec.mode", "monitor mode forwards violations (audited as ALLOW_MONITOR); use enforce in production")
	}
	allowed := make(map[string]int, len(s.AllowedTools))
	for i, t := range s.AllowedTools {
		n := Normalize(t)
		if j, dup := allowed[n]; dup {
			add(fmt.Sprintf("spec.allowed_tools[%d]", i), "duplicate of spec.allowed_tools[%d] (%q)", j, n)
		}
		allowed[n] = i
		if n != t {
			add(fmt.Sprintf("spec.allowed_tools[%d]", i), "%q is compared as %q", t, n)
		}
	}
	anyAllowRule := false
	for i, r := range s.ToolRules {
		path := fmt.Sprintf("spec.tool_rules[%d]", i)
		n := Normalize(r.Tool)
		if n != r.Tool {
			add(path+".tool", "%q is compared as %q", r.Tool, n)
		}
		_, listed := allowed[n]
		strict := s.StrictArgsDefault
		if r.StrictArgs != nil {
			strict = *r.StrictArgs
		}
		switch r.Action {
		case ruleBlock:
			if listed {
				add(path, "tool %q is in spec.allowed_tools but blocked here; the block wins", n)
			}
			if len(r.AllowArgs) > 0 || r.StrictArgs != nil {
				add(path, "allow_args and strict_args of a blocked tool have no effect: every call is refused")
			}
		case ruleAsk:
			if len(r.AllowArgs) > 0 || r.StrictArgs != nil {
				add(path, "allow_args and strict_args are not checked for ask rules: the approver sees the call instead")
			}
		default:
			anyAllowRule = true
			if strict && len(r.AllowArgs) == 0 {
				add(path, "strict_args is on but allow_args is empty: every call with arguments is denied")
			}
		}
		for _, name := range sortedKeys(r.AllowArgs) {
			re := r.AllowArgs[name]
			if !anchored(re) {
				add(path+".allow_args."+name, "pattern %q is not anchored (^…$): it matches anywhere in the value", re)
			}
		}
	}
	if len(s.AllowedTools) == 0 && !anyAllowRule {
		add("spec.allowed_tools", "empty and no tool_rules entry allows a tool: every tools/call is denied")
	}
	for i, m := range s.AllowedMethods {
		if Normalize(m) == "*" {
			add(fmt.Sprintf("spec.allowed_methods[%d]", i), `"*" allows every method not in denied_methods`)
		}
	}
	if len(s.AllowedMethods) > 0 && !containsName(s.AllowedMethods, "initialize") && !containsName(s.AllowedMethods, "*") {
		add("spec.allowed_methods", "initialize is not allowed: MCP clients cannot connect")
	}
	if len(s.ProtectedPaths) == 0 {
		add("spec.protected_paths", "empty: consider protecting ~/.ssh, ~/.aws and similar credentials")
	}
	if doc.APIVersion == "aip.io/v1alpha1" {
		if doc.Metadata.Signature != "" {
			add("metadata.signature", "signatures are a v1alpha2 feature; use apiVersion aip.io/v1alpha2")
		}
		for i, r := range s.ToolRules {
			if r.SchemaHash != "" {
				add(fmt.Sprintf("spec.tool_rules[%d].schema_hash", i), "schema_hash is a v1alpha2 feature; use apiVersion aip.io/v1alpha2")
			}
		}
	}
	if s.DLP != nil && s.DLP.Enabled != nil && !*s.DLP.Enabled && len(s.DLP.Patterns) > 0 {
		add("spec.dlp.enabled", "false: the %d patterns are not applied", len(s.DLP.Patterns))
	}
	return ws
}

// anchored reports whether every match of expr must span the whole value:
// it starts with ^ (or \A) and ends with $ (or \z) on every branch, after
// any leading flag group such as (?s) or (?is). A pattern in multi-line
// mode ((?m)^x$) is not anchored: its ^ and $ match at line breaks.
func anchored(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	return anchoredAt(re, syntax.OpBeginText, true) && anchoredAt(re, syntax.OpEndText, false)
}

// anchoredAt reports whether re starts (first) or ends (!first) with op on
// every alternative.
func anchoredAt(re *syntax.Regexp, op syntax.Op, first bool) bool {
	switch re.Op {
	case op:
		return true
	case syntax.OpCapture:
		return anchoredAt(re.Sub[0], op, first)
	case syntax.OpConcat:
		if len(re.Sub) == 0 {
			return false
		}
		i := len(re.Sub) - 1
		if first {
			i = 0
		}
		return anchoredAt(re.Sub[i], op, first)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !anchoredAt(sub, op, first) {
				return false
			}
		}
		return true
	}
	return false
}

func containsName(list []string, name string) bool {
	for _, v := range list {
		if Normalize(v) == name {
			return true
		}
	}
	return false
}
