package enforcer

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
)

// Decide takes params from a gateway, not from a parsed message: it must
// check they are JSON before reading them as a parsed message's.
func TestDecideParams(t *testing.T) {
	tests := []struct {
		name   string
		params string
		want   policy.Action
		code   codes.Code
	}{
		{name: "allowed", params: `{"name":"read_file","arguments":{"path":"/work/a"}}`, want: policy.ActionAllow},
		{name: "truncated arguments", params: `{"name":"read_file","arguments":{"path":}`, want: policy.ActionDeny, code: codes.InvalidParams},
		{name: "trailing garbage", params: `{"name":"read_file"} x`, want: policy.ActionDeny, code: codes.InvalidParams},
		{name: "absent", params: ``, want: policy.ActionDeny, code: codes.InvalidParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, compileTest(t, "enforce", "block"), nil)
			d := e.Decide(context.Background(), "tools/call", json.RawMessage(tc.params))
			if d.Action != tc.want || (tc.code != 0 && d.Code != tc.code) {
				t.Fatalf("Decide = %v code %d (%s); want %v code %d", d.Action, d.Code, d.Reason, tc.want, tc.code)
			}
			if recs := e.audit.records(t); len(recs) != 1 {
				t.Fatalf("%d audit records; want 1", len(recs))
			}
		})
	}
}
