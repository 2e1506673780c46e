package dlp

import (
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/aip-project/aip/internal/keypath"
)

// Scope says which traffic a pattern applies to.
type Scope string

// Scopes. The empty scope means ScopeAll.
const (
	ScopeRequest  Scope = "request"
	ScopeResponse Scope = "response"
	ScopeAll      Scope = "all"
)

// Action is what the caller does when a request matches.
type Action string

// Actions. The empty action means ActionBlock.
const (
	ActionBlock  Action = "block"  // refuse the call
	ActionRedact Action = "redact" // forward it with RedactRequest's output
	ActionWarn   Action = "warn"   // forward it unchanged, audit the finding
)

// Pattern is one named secret pattern.
type Pattern struct {
	// Name labels redactions ([REDACTED:<Name>]) and audit counts.
	Name string
	// Regex is an RE2 expression. Empty means the built-in pattern called
	// Name (see Builtins).
	Regex string
	// Scope is request, response or all (the default).
	Scope Scope
}

// Config is a policy's dlp section.
type Config struct {
	// Enabled turns DLP on; nil means true.
	Enabled *bool
	// Patterns are the secrets to look for.
	Patterns []Pattern
	// ScanRequests scans tools/call params with the request-scoped patterns.
	ScanRequests bool
	// OnRequestMatch is the action on a request match; default block.
	OnRequestMatch Action
	// DetectEncoding also decodes base64 and hex runs inside strings.
	DetectEncoding bool
}

// Problem is one mistake in a Config, with its key path relative to the
// dlp section ("patterns[1].regex").
type Problem = keypath.Problem

// ConfigError lists every problem of a Config; Compile returns it, so a
// policy validator can report each problem under its own key path. Its
// message starts "dlp config: ".
type ConfigError = keypath.ValidationError

// IsBuiltin reports whether name is a built-in pattern a Pattern may use
// without a Regex.
func IsBuiltin(name string) bool {
	_, ok := builtins[name]
	return ok
}

// Compile checks cfg and builds its Scanner. The error is a *ConfigError
// listing every problem, each with its key path relative to the dlp section
// (patterns[1].regex: ...).
func Compile(cfg Config) (*Scanner, error) {
	s := &Scanner{
		enabled:        cfg.Enabled == nil || *cfg.Enabled,
		scanRequests:   cfg.ScanRequests,
		onRequest:      cfg.OnRequestMatch,
		detectEncoding: cfg.DetectEncoding,
	}
	var errs keypath.Problems
	switch s.onRequest {
	case "":
		s.onRequest = ActionBlock
	case ActionBlock, ActionRedact, ActionWarn:
	default:
		errs.Add("on_request_match", "%q is not block, redact or warn", cfg.OnRequestMatch)
	}
	var req, resp []rule
	seen := make(map[string]bool, len(cfg.Patterns))
	for i, p := range cfg.Patterns {
		r, perrs := compilePattern(p, seen)
		errs.AddUnder(keypath.Index("patterns", i), perrs)
		if len(perrs) > 0 {
			continue
		}
		if p.Scope != ScopeResponse {
			req = append(req, r)
		}
		if p.Scope != ScopeRequest {
			resp = append(resp, r)
		}
	}
	if err := errs.Err(nil, "dlp config"); err != nil {
		return nil, err
	}
	s.request, s.response = newRuleSet(req), newRuleSet(resp)
	return s, nil
}

func compilePattern(p Pattern, seen map[string]bool) (rule, keypath.Problems) {
	var errs keypath.Problems
	switch {
	case p.Name == "":
		errs.Add("name", "required")
	case seen[p.Name]:
		errs.Add("name", "duplicate: %q is used by an earlier pattern", p.Name)
	}
	seen[p.Name] = true
	switch p.Scope {
	case "", ScopeRequest, ScopeResponse, ScopeAll:
	default:
		errs.Add("scope", "%q is not request, response or all", p.Scope)
	}
	expr := p.Regex
	if expr == "" {
		b, ok := builtins[p.Name]
		if !ok {
			errs.Add("regex", "required (%q is not a built-in pattern; built-ins: %s)",
				p.Name, strings.Join(Builtins(), ", "))
			return rule{}, errs
		}
		expr = b
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		errs.Add("regex", "invalid RE2 regex: %v", err)
		return rule{}, errs
	}
	if matchesEmpty(expr) {
		errs.Add("regex", "matches the empty string, so it would redact everywhere")
	}
	return rule{name: p.Name, re: re}, errs
}

// matchesEmpty reports whether expr can match an empty run of text.
func matchesEmpty(expr string) bool {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return false
	}
	return nullable(re.Simplify())
}

func nullable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return false
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpRepeat:
		return re.Min == 0 || nullable(re.Sub[0])
	case syntax.OpPlus, syntax.OpCapture:
		return nullable(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !nullable(sub) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if nullable(sub) {
				return true
			}
		}
		return false
	}
	return true // empty match and the zero-width assertions
}
