package policy

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"time"
)

// Modes of spec.mode.
const (
	ModeEnforce = "enforce"
	ModeMonitor = "monitor"
)

// Actions of tool_rules[].action.
const (
	ruleAllow = "allow"
	ruleBlock = "block"
	ruleAsk   = "ask"
)

// Options tune Compile. The zero value is usable.
type Options struct {
	// PolicyPath is the policy file; it is always protected. Load sets it.
	PolicyPath string
	// ExtraProtected are files the enforcer itself owns (the audit log),
	// protected like the policy file whatever the policy says. Each entry
	// is a literal path (no globs), made absolute against the process's
	// working directory; it protects the file, everything below it, and
	// every sibling whose name extends it, so rotated copies
	// ("audit.jsonl.1", "audit.jsonl-20250101.gz") are covered too.
	ExtraProtected []string
	// HomeDir expands "~" and $HOME in protected paths and arguments.
	// Empty: os.UserHomeDir().
	HomeDir string
	// WorkDir resolves relative path arguments: the MCP server's working
	// directory. Empty: os.Getwd() (a stdio child inherits it).
	WorkDir string
	// TrustedKey, when set, makes Compile require a valid
	// metadata.signature (ErrSignatureInvalid otherwise).
	TrustedKey ed25519.PublicKey
	// RateLimiter counts calls for rate_limit rules. Nil: a MemoryLimiter
	// on Now. Keep one limiter across reloads so limits survive them.
	RateLimiter RateLimiter
	// Now is the clock of the default limiter and of the cache of resolved
	// symlinks (entries live 500 ms). Nil: time.Now.
	Now func() time.Time
}

// Policy is a compiled AgentPolicy. It is immutable (but for an internally
// locked cache of resolved symlinks) and safe for
// concurrent use; a reload compiles a new one.
type Policy struct {
	name    string
	hash    string
	monitor bool

	allowedTools    map[string]struct{}
	rules           map[string]*rule
	allowAllMethods bool
	allowedMethods  map[string]struct{}
	defaultMethods  bool           // allowed_methods not set: DefaultAllowedMethods
	deniedMethods   map[string]int // normalized method → index in denied_methods

	protected []protectedPath
	paths     pathResolver
	symlinks  *symlinkCache // the one mutable part, internally locked
	limiter   RateLimiter
	dlp       *DLP
}

type rule struct {
	index      int // in spec.tool_rules, for reasons
	tool       string
	action     string
	args       []argRule // sorted by name
	strict     bool
	ownStrict  bool  // strict comes from the rule's strict_args, not the default
	limit      Limit // N == 0: no rate limit
	schemaHash string
}

type argRule struct {
	name string
	re   *regexp.Regexp
}

func (r *rule) hasArg(name string) bool {
	for i := range r.args {
		if r.args[i].name == name {
			return true
		}
	}
	return false
}

// Compile turns a parsed document into a Policy.
func Compile(doc *Document, opts Options) (*Policy, error) {
	if doc == nil || doc.hash == "" {
		return nil, errors.New("compile policy: document was not produced by Parse")
	}
	if opts.TrustedKey != nil {
		if err := VerifySignature(doc, opts.TrustedKey); err != nil {
			return nil, err
		}
	}
	res, err := resolverFor(opts)
	if err != nil {
		return nil, err
	}
	s := &doc.Spec
	p := &Policy{
		name:           doc.Metadata.Name,
		hash:           doc.hash,
		monitor:        s.Mode == ModeMonitor,
		allowedTools:   nameSet(s.AllowedTools),
		rules:          make(map[string]*rule, len(s.ToolRules)),
		allowedMethods: nameSet(s.AllowedMethods),
		deniedMethods:  nameIndex(s.DeniedMethods),
		paths:          res,
		symlinks:       newSymlinkCache(opts.Now),
		limiter:        opts.RateLimiter,
		dlp:            s.DLP,
	}
	if len(s.AllowedMethods) == 0 {
		p.allowedMethods = nameSet(DefaultAllowedMethods)
		p.defaultMethods = true
	}
	_, p.allowAllMethods = p.allowedMethods["*"]
	if p.limiter == nil {
		p.limiter = NewMemoryLimiter(opts.Now)
	}
	for i, tr := range s.ToolRules {
		r, err := compileRule(tr, s.StrictArgsDefault)
		if err != nil {
			return nil, err
		}
		r.index = i
		p.rules[r.tool] = r
	}
	if p.protected, err = compileProtected(s.ProtectedPaths, res, opts.PolicyPath, opts.ExtraProtected); err != nil {
		return nil, fmt.Errorf("compile policy: %w", err)
	}
	return p, nil
}

func resolverFor(opts Options) (pathResolver, error) {
	r := pathResolver{home: opts.HomeDir, workDir: opts.WorkDir}
	var err error
	if r.home == "" {
		if r.home, err = os.UserHomeDir(); err != nil {
			return r, fmt.Errorf("compile policy: home directory for ~: %w", err)
		}
	}
	if r.workDir == "" {
		if r.workDir, err = os.Getwd(); err != nil {
			return r, fmt.Errorf("compile policy: working directory: %w", err)
		}
	}
	return r, nil
}

func compileRule(tr ToolRule, strictDefault bool) (*rule, error) {
	r := &rule{tool: Normalize(tr.Tool), action: tr.Action, strict: strictDefault, schemaHash: tr.SchemaHash}
	if r.action == "" {
		r.action = ruleAllow
	}
	if tr.StrictArgs != nil {
		r.strict, r.ownStrict = *tr.StrictArgs, true
	}
	for name, expr := range tr.AllowArgs {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("compile policy: tool %q argument %q: %w", r.tool, name, err)
		}
		r.args = append(r.args, argRule{name: name, re: re})
	}
	sort.Slice(r.args, func(i, j int) bool { return r.args[i].name < r.args[j].name })
	if tr.RateLimit != "" {
		l, err := ParseLimit(tr.RateLimit)
		if err != nil {
			return nil, fmt.Errorf("compile policy: tool %q: %w", r.tool, err)
		}
		r.limit = l
	}
	return r, nil
}

// nameIndex maps each normalized name to its first index in names.
func nameIndex(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := m[Normalize(n)]; !dup {
			m[Normalize(n)] = i
		}
	}
	return m
}

func nameSet(names []string) map[string]struct{} {
	m := make(map[string]struct{}, len(names))
	for _, n := range names {
		m[Normalize(n)] = struct{}{}
	}
	return m
}

// Name is metadata.name.
func (p *Policy) Name() string { return p.name }

// Hash is the policy hash (lowercase hex SHA-256 of the canonical policy).
func (p *Policy) Hash() string { return p.hash }

// Mode is "enforce" or "monitor".
func (p *Policy) Mode() string {
	if p.monitor {
		return ModeMonitor
	}
	return ModeEnforce
}

// DLP returns a copy of the dlp section, and whether DLP is on (the
// section is present and enabled is not false).
func (p *Policy) DLP() (DLP, bool) {
	if p.dlp == nil {
		return DLP{}, false
	}
	d := *p.dlp
	d.Patterns = append([]DLPPattern(nil), d.Patterns...)
	return d, d.Enabled == nil || *d.Enabled
}
