package approval

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// DefaultTimeout is how long Gate waits for an answer when
// GateConfig.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// maxRemembered bounds the approvals a Gate keeps; past it they are
// forgotten and people are asked again.
const maxRemembered = 4096

// GateConfig configures a Gate. Nil fields have the documented defaults.
type GateConfig struct {
	// Approver answers asks. Nil: None (every ask is denied).
	Approver Approver
	// Timeout bounds the wait for an answer; zero: DefaultTimeout.
	Timeout time.Duration
	// Logger receives outcomes (tool and argument hash, never arguments).
	// Nil discards.
	Logger *slog.Logger
}

// Gate settles asks: it applies the timeout, coalesces identical asks that
// are open at the same time into one question, and remembers approvals.
// An approval covers exactly the tool, canonical arguments (ArgsSHA256),
// policy hash, agent and user it was given for. Denials are not
// remembered. Gate is safe for concurrent use.
type Gate struct {
	cfg GateConfig

	mu       sync.Mutex
	approved map[string]struct{}
	open     map[string]*openAsk
}

type openAsk struct {
	done    chan struct{}
	outcome Outcome
}

// NewGate returns a Gate for cfg.
func NewGate(cfg GateConfig) *Gate {
	if cfg.Approver == nil {
		cfg.Approver = None{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Gate{cfg: cfg, approved: make(map[string]struct{}), open: make(map[string]*openAsk)}
}

// Timeout is the approval timeout in force.
func (g *Gate) Timeout() time.Duration { return g.cfg.Timeout }

func key(req Request) string {
	return req.PolicyHash + "\x00" + req.Tool + "\x00" + req.ArgsSHA256 + "\x00" + req.Agent + "\x00" + req.User
}

// Ask returns the outcome for req, asking the approver unless the same call
// was approved before or is being asked about right now. It blocks until
// then, at most the timeout; ctx ending early is a denial.
func (g *Gate) Ask(ctx context.Context, req Request) Outcome {
	k := key(req)
	g.mu.Lock()
	if _, ok := g.approved[k]; ok {
		g.mu.Unlock()
		return Approved
	}
	if a, ok := g.open[k]; ok {
		g.mu.Unlock()
		select {
		case <-a.done:
			return a.outcome
		case <-ctx.Done():
			return Denied
		}
	}
	a := &openAsk{done: make(chan struct{})}
	g.open[k] = a
	g.mu.Unlock()

	a.outcome = g.ask(ctx, req)

	g.mu.Lock()
	delete(g.open, k)
	if a.outcome == Approved {
		if len(g.approved) >= maxRemembered {
			clear(g.approved)
		}
		g.approved[k] = struct{}{}
	}
	g.mu.Unlock()
	close(a.done)
	return a.outcome
}

func (g *Gate) ask(ctx context.Context, req Request) Outcome {
	tctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	ok, err := g.cfg.Approver.Approve(tctx, req)
	log := g.cfg.Logger.With("tool", req.Tool, "args_sha256", req.ArgsSHA256)
	switch {
	case err == nil && ok:
		log.Info("call approved")
		return Approved
	case err == nil:
		log.Info("call denied by approver")
		return Denied
	case errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		log.Info("approval timed out", "timeout", g.cfg.Timeout)
		return TimedOut
	}
	log.Warn("approval failed; call denied", "err", err)
	return Denied
}
