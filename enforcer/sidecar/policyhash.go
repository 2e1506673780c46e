package sidecar

import (
	"sync"
	"time"

	"github.com/aip-project/aip/identity/jwk"
)

// hashHistory tells which policy hashes a token may carry: the one in
// force, and the one before it for a grace period after a change, so that
// tokens minted just before a policy update keep working until renewed.
type hashHistory struct {
	current func() string // the hash of the policy in force
	grace   time.Duration

	mu        sync.Mutex
	last      string
	previous  string
	changedAt time.Time
}

// accepts reports whether h is the policy in force, or the previous one
// within the grace period. Hashes are compared in constant time.
func (p *hashHistory) accepts(h string, now time.Time) bool {
	cur := p.current()
	p.mu.Lock()
	if cur != p.last {
		if p.last != "" {
			p.previous, p.changedAt = p.last, now
		}
		p.last = cur
	}
	prev, changed := p.previous, p.changedAt
	p.mu.Unlock()
	if jwk.Equal(h, cur) {
		return true
	}
	return prev != "" && now.Sub(changed) < p.grace && jwk.Equal(h, prev)
}

// observe notes the hash in force now, so a change is dated when it
// happens rather than at the next token carrying a hash.
func (p *hashHistory) observe(now time.Time) { p.accepts("", now) }
