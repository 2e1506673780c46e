package enforcer

import (
	"encoding/json"
	"strconv"
	"sync"
)

// maxPending bounds the requests the engine remembers awaiting a server
// response; past it new requests are refused rather than tracked blindly.
const maxPending = 1 << 16

// call is what the engine remembers of a forwarded request, so that the
// server's response can be filtered and redacted for it.
type call struct {
	method    string // normalized
	tool      string // normalized, tools/call only
	cancelled bool   // the client cancelled it: the server may never answer
}

// pendingCalls maps in-flight request ids to their calls.
type pendingCalls struct {
	mu    sync.Mutex
	calls map[string]call
}

// idKey canonicalizes a JSON-RPC id: a number echoed in another spelling
// (1 and 1.0) or a string with other escapes is the same id.
func idKey(id json.RawMessage) (string, bool) {
	if len(id) == 0 {
		return "", false
	}
	switch id[0] {
	case '"':
		var s string
		if err := json.Unmarshal(id, &s); err != nil {
			return "", false
		}
		return "s" + s, true
	case 'n':
		return "", false
	}
	f, err := strconv.ParseFloat(string(id), 64)
	if err != nil {
		return "", false
	}
	return "n" + strconv.FormatFloat(f, 'g', -1, 64), true
}

// reserve records id for c. It fails when the id is already in flight
// (JSON-RPC ids must be unique among open requests) or too many are open.
func (p *pendingCalls) reserve(id json.RawMessage, c call) bool {
	k, ok := idKey(id)
	if !ok {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) >= maxPending {
		p.dropCancelledLocked()
	}
	if old, dup := p.calls[k]; (dup && !old.cancelled) || len(p.calls) >= maxPending {
		return false
	}
	p.calls[k] = c
	return true
}

// cancel marks id cancelled (notifications/cancelled): its entry may be
// dropped when the table is full, and the id reused.
func (p *pendingCalls) cancel(id json.RawMessage) {
	k, ok := idKey(id)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, found := p.calls[k]; found {
		c.cancelled = true
		p.calls[k] = c
	}
}

func (p *pendingCalls) dropCancelledLocked() {
	for k, c := range p.calls {
		if c.cancelled {
			delete(p.calls, k)
		}
	}
}

// take removes and returns the call for id.
func (p *pendingCalls) take(id json.RawMessage) (call, bool) {
	k, ok := idKey(id)
	if !ok {
		return call{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c, found := p.calls[k]
	delete(p.calls, k)
	return c, found
}

// release forgets id without a response (the request was refused).
func (p *pendingCalls) release(id json.RawMessage) { p.take(id) }
