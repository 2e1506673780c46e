package enforcer

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/dlp"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
)

// Config configures an Engine. Nil fields have the documented defaults.
type Config struct {
	// Policy is the compiled policy to enforce. Required: with no policy
	// nothing may be forwarded, so New refuses to build an Engine.
	Policy *policy.Policy
	// Audit receives one record per decision. Nil: no audit log.
	Audit *audit.Writer
	// Gate settles `ask` rules. Nil: a Gate with no approver, so every ask
	// is denied (-32004).
	Gate *approval.Gate
	// Agent identifies the agent in approval requests; optional.
	Agent string
	// Logger receives decisions (method, tool, rule; never arguments,
	// tokens or secrets). Nil discards.
	Logger *slog.Logger
	// Now is the clock of audit timestamps. Nil: time.Now.
	Now func() time.Time
}

// Engine enforces a policy on MCP messages, independent of the transport:
// the stdio proxy and the HTTP sidecar feed it client messages
// (HandleRequest) and server messages (HandleResponse) and send on what
// it returns. It is safe for concurrent use; the policy can be swapped at
// any time (SetPolicy) and applies to the next message.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	state atomic.Pointer[state]

	pending pendingCalls

	schemaMu sync.Mutex
	schemas  map[string][]byte // tool -> last tools/list entry seen
}

// state is one policy with everything derived from it. It is immutable
// once published, except mismatched, which is replaced whole.
type state struct {
	policy        *policy.Policy
	dlp           *dlp.Scanner
	scanResponses bool
	mismatched    atomic.Pointer[map[string]policy.Decision]
}

// New builds an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Policy == nil {
		return nil, errors.New("enforcer: no policy: nothing can be forwarded without one")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Gate == nil {
		cfg.Gate = approval.NewGate(approval.GateConfig{Logger: cfg.Logger})
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, schemas: make(map[string][]byte)}
	e.pending.calls = make(map[string]call)
	if err := e.SetPolicy(cfg.Policy); err != nil {
		return nil, err
	}
	return e, nil
}

// SetPolicy makes p the policy for every later message. On error (its DLP
// section does not compile) the policy in force stays.
func (e *Engine) SetPolicy(p *policy.Policy) error {
	if p == nil {
		return errors.New("enforcer: set policy: nil policy")
	}
	scanner, scanResponses, err := compileDLP(p)
	if err != nil {
		return fmt.Errorf("enforcer: policy %q: %w", p.Name(), err)
	}
	s := &state{policy: p, dlp: scanner, scanResponses: scanResponses}
	e.schemaMu.Lock()
	s.mismatched.Store(e.mismatchesLocked(p))
	e.state.Store(s)
	e.schemaMu.Unlock()
	return nil
}

// Policy returns the policy in force.
func (e *Engine) Policy() *policy.Policy { return e.state.Load().policy }

// compileDLP builds the scanner for p's dlp section (nil when DLP is off).
func compileDLP(p *policy.Policy) (*dlp.Scanner, bool, error) {
	d, on := p.DLP()
	if !on {
		return nil, false, nil
	}
	s, err := dlp.Compile(d.ScannerConfig())
	if err != nil {
		return nil, false, fmt.Errorf("dlp: %w", err)
	}
	return s, d.ScanResponses == nil || *d.ScanResponses, nil
}
