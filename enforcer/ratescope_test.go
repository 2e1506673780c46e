package enforcer

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/aip-project/aip/enforcer/policy"
)

// keyLimiter records the keys it is asked about and admits every call.
type keyLimiter struct {
	mu   sync.Mutex
	keys []string
}

func (k *keyLimiter) Allow(_ context.Context, key string, _ policy.Limit) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = append(k.keys, key)
	return true, nil
}

func TestRateLimitKeyedByAgent(t *testing.T) {
	const y = `apiVersion: aip.io/v1alpha2
kind: AgentPolicy
metadata: {name: unit}
spec:
  tool_rules:
    - tool: send
      action: allow
      rate_limit: 5/minute
`
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"stdio: no caller, key is the tool", context.Background(), "send"},
		{"sidecar: caller's agent id scopes the key",
			WithCaller(context.Background(), Caller{AgentID: "spiffe://td/agent/a"}),
			"agent/spiffe:%2F%2Ftd%2Fagent%2Fa/tool/send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := policy.Parse([]byte(y))
			if err != nil {
				t.Fatal(err)
			}
			lim := &keyLimiter{}
			p, err := policy.Compile(doc, policy.Options{RateLimiter: lim})
			if err != nil {
				t.Fatal(err)
			}
			e := newTestEngine(t, p, nil)
			d := e.Decide(tt.ctx, "tools/call", json.RawMessage(`{"name":"send","arguments":{}}`))
			if d.Action != policy.ActionAllow {
				t.Fatalf("decision: %+v", d)
			}
			if len(lim.keys) != 1 || lim.keys[0] != tt.want {
				t.Errorf("limiter keys = %q, want [%q]", lim.keys, tt.want)
			}
		})
	}
}
