package enforcer

import (
	"context"

	"github.com/aip-project/aip/internal/audit"
)

// Caller is who sends the messages of one request, as a proxy that
// authenticated it (the HTTP sidecar, from the verified AAT) knows them.
// The engine copies it into every audit record and approval request of
// that request; without one (the stdio proxy) records carry no identity.
type Caller struct {
	AgentID   string
	UserID    string
	AATJTI    string
	SessionID string
	Issuer    string
	// Grants reports whether the caller's token grants a tool (its
	// capabilities.tools). tools/list results show only granted tools.
	// Nil: no token limits the tools, the policy alone decides.
	Grants func(tool string) bool
}

type callerKey struct{}

// WithCaller returns ctx carrying c, for HandleRequest, HandleResponse,
// Verdict.Wait and Decide.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller ctx carries, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Identify copies the caller's identity into rec.
func (c Caller) Identify(rec *audit.Record) {
	rec.AgentID, rec.UserID, rec.AATJTI, rec.SessionID, rec.Issuer = c.AgentID, c.UserID, c.AATJTI, c.SessionID, c.Issuer
}

// grants reports whether the caller may see tool (normalized).
func (c Caller) grants(tool string) bool { return c.Grants == nil || c.Grants(tool) }
