package policy

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aip-project/aip/internal/keypath"
	"github.com/aip-project/aip/internal/strictyaml"
)

// maxRepeat bounds TestCase.Repeat.
const maxRepeat = 10000

// TestFile is a policy test file, run by `aip policy test` (see the
// package documentation for the format).
type TestFile struct {
	// Policy is the policy file, relative to the test file.
	Policy string `yaml:"policy"`
	// Home expands "~" (default /home/agent); WorkDir resolves relative
	// paths (default /). Fixed values keep tests the same on every machine.
	Home    string     `yaml:"home"`
	WorkDir string     `yaml:"workdir"`
	Tests   []TestCase `yaml:"tests"`
}

// TestCase is one request and the decision expected for it.
type TestCase struct {
	Name    string      `yaml:"name"`
	Request TestRequest `yaml:"request"`
	// Repeat sends the request this many times (1–10000; absent means 1)
	// on a frozen clock; Expect applies to the last one. For rate limits.
	Repeat *int        `yaml:"repeat"`
	Expect Expectation `yaml:"expect"`
}

// TestRequest is a JSON-RPC request written in YAML.
type TestRequest struct {
	JSONRPC string `yaml:"jsonrpc"`
	ID      any    `yaml:"id"`
	Method  string `yaml:"method"`
	Params  any    `yaml:"params"`
}

// Expectation lists what must hold; unset fields are not checked.
type Expectation struct {
	// Decision is allow, deny, ask or allow_monitor (required).
	Decision       string `yaml:"decision"`
	Code           *int   `yaml:"code"`
	Audit          string `yaml:"audit"`
	FailedRule     string `yaml:"failed_rule"`
	FailedArg      string `yaml:"failed_arg"`
	ReasonContains string `yaml:"reason_contains"`
}

// TestResult is the outcome of one TestCase.
type TestResult struct {
	Name     string
	Failures []string // empty when the case passed
	Got      Decision
}

// Passed reports whether every expectation held.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// ParseTestFile decodes a test file strictly, reporting problems with key
// paths like Parse.
func ParseTestFile(data []byte) (*TestFile, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: test file over %d bytes", ErrTooLarge, MaxSize)
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	var d strictyaml.Decoder
	tf := &TestFile{}
	d.Decode(root, tf)
	ps := d.Problems()
	if tf.Policy == "" {
		ps.Add("policy", "required")
	}
	for i, tc := range tf.Tests {
		path := keypath.Index("tests", i)
		if tc.Name == "" {
			ps.Add(path+".name", "required")
		}
		if !oneOf(tc.Expect.Decision, "allow", "deny", "ask", "allow_monitor") {
			ps.Add(path+".expect.decision", "must be allow, deny, ask or allow_monitor, got %q", tc.Expect.Decision)
		}
		if tc.Repeat != nil && (*tc.Repeat < 1 || *tc.Repeat > maxRepeat) {
			ps.Add(path+".repeat", "must be between 1 and %d, got %d", maxRepeat, *tc.Repeat)
		}
	}
	if err := invalid(ps); err != nil {
		return nil, err
	}
	return tf, nil
}

// TestOptions tune RunTestFile. The zero value is usable.
type TestOptions struct {
	// TrustedKey, when set, makes the policy's metadata.signature
	// required, as the enforcer does with a trusted key: if it does not
	// verify, every case is decided as the enforcer would then decide
	// every message (LoadFailure: -32010), so cases can expect that.
	TrustedKey ed25519.PublicKey
}

// RunTestFile runs the test file at path. Each case gets a freshly compiled
// policy, a fresh rate limiter and a frozen clock. An error means the file
// or its policy could not be loaded.
func RunTestFile(ctx context.Context, path string, topts TestOptions) ([]TestResult, error) {
	data, err := readLimited(path, MaxSize)
	if err != nil {
		return nil, err
	}
	tf, err := ParseTestFile(data)
	if err != nil {
		return nil, fmt.Errorf("test file %s: %w", path, err)
	}
	policyPath := tf.Policy
	if !filepath.IsAbs(policyPath) {
		policyPath = filepath.Join(filepath.Dir(path), policyPath)
	}
	doc, err := ReadFile(policyPath)
	if err != nil {
		return nil, err
	}
	opts := Options{PolicyPath: policyPath, HomeDir: tf.Home, WorkDir: tf.WorkDir, TrustedKey: topts.TrustedKey}
	if opts.HomeDir == "" {
		opts.HomeDir = "/home/agent"
	}
	if opts.WorkDir == "" {
		opts.WorkDir = "/"
	}
	frozen := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	results := make([]TestResult, 0, len(tf.Tests))
	for _, tc := range tf.Tests {
		opts.RateLimiter = NewMemoryLimiter(func() time.Time { return frozen })
		p, err := Compile(doc, opts)
		if errors.Is(err, ErrSignatureInvalid) {
			results = append(results, checkCase(TestResult{Name: tc.Name, Got: LoadFailure(err)}, tc.Expect))
			continue
		}
		if err != nil {
			return nil, err
		}
		results = append(results, runCase(ctx, p, tc))
	}
	return results, nil
}

func runCase(ctx context.Context, p *Policy, tc TestCase) TestResult {
	res := TestResult{Name: tc.Name}
	params, err := json.Marshal(tc.Request.Params)
	if err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("request.params: %v", err))
		return res
	}
	n := 1
	if tc.Repeat != nil {
		n = *tc.Repeat
	}
	for range n {
		res.Got = p.Evaluate(ctx, tc.Request.Method, params)
	}
	return checkCase(res, tc.Expect)
}

// checkCase adds a failure to res for every expectation res.Got misses.
func checkCase(res TestResult, e Expectation) TestResult {
	got := res.Got
	fail := func(format string, a ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, a...)) }
	if got.Action.String() != e.Decision {
		fail("decision: got %s, want %s (reason: %s)", got.Action, e.Decision, got.Reason)
	}
	if e.Code != nil && int(got.Code) != *e.Code {
		fail("code: got %d, want %d", got.Code, *e.Code)
	}
	if e.Audit != "" && got.AuditDecision != e.Audit {
		fail("audit: got %q, want %q", got.AuditDecision, e.Audit)
	}
	if e.FailedRule != "" && got.FailedRule != e.FailedRule {
		fail("failed_rule: got %q, want %q", got.FailedRule, e.FailedRule)
	}
	if e.FailedArg != "" && got.FailedArg != e.FailedArg {
		fail("failed_arg: got %q, want %q", got.FailedArg, e.FailedArg)
	}
	if e.ReasonContains != "" && !strings.Contains(got.Reason, e.ReasonContains) {
		fail("reason: %q does not contain %q", got.Reason, e.ReasonContains)
	}
	return res
}
