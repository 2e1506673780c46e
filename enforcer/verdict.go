package enforcer

import "context"

// Verdict is what to do with one client message.
type Verdict struct {
	// Forward is the message to send to the server (possibly rewritten:
	// token stripped, secrets redacted, denied batch elements removed);
	// nil when nothing goes to the server.
	Forward []byte
	// Reply is the message to send back to the client (JSON-RPC errors for
	// refused requests); nil when none.
	Reply []byte

	wait func(ctx context.Context) Verdict
}

// Pending reports whether the message waits for a person's approval. Call
// Wait, in its own goroutine when other messages must keep flowing.
func (v Verdict) Pending() bool { return v.wait != nil }

// Wait blocks until a pending approval is settled and returns the final
// verdict; ctx ending is a denial. A verdict that is not pending is
// returned as is.
func (v Verdict) Wait(ctx context.Context) Verdict {
	if v.wait == nil {
		return v
	}
	return v.wait(ctx)
}
