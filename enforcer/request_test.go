package enforcer

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aip-project/aip/internal/jsonrpc"
)

func TestHandleRequest(t *testing.T) {
	tests := []struct {
		name        string
		mode        string
		onMatch     string
		msg         string
		wantForward string // substring of the forwarded message; "" means nothing is forwarded
		wantSame    bool   // forwarded byte for byte
		wantCode    int    // error code of the reply; 0: no reply
		notForward  string // must not appear in what is forwarded
		wantAudit   string // decision of the last audit record; "" means no record
	}{
		{name: "allowed call passes unchanged", msg: toolCall(1, "read_file", `{"path":"/work/a"}`),
			wantForward: "read_file", wantSame: true, wantAudit: "ALLOW"},
		{name: "initialize passes", msg: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`,
			wantForward: "initialize", wantSame: true, wantAudit: "ALLOW"},
		{name: "method not allowed", msg: `{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{}}`,
			wantCode: -32006, wantAudit: "BLOCK"},
		{name: "method case folded", msg: `{"jsonrpc":"2.0","id":2,"method":"TOOLS/CALL","params":{"name":"exec"}}`,
			wantCode: -32001, wantAudit: "BLOCK"},
		{name: "denied notification gets no reply", msg: `{"jsonrpc":"2.0","method":"resources/read"}`, wantAudit: "BLOCK"},
		{name: "empty method refused", mode: "monitor", msg: `{"jsonrpc":"2.0","id":2,"method":""}`, wantCode: -32006, wantAudit: "BLOCK"},
		{name: "invisible method refused", mode: "monitor", msg: `{"jsonrpc":"2.0","id":2,"method":"\u200b","params":{"_aip_aat":1}}`, wantCode: -32006, wantAudit: "BLOCK"},
		{name: "blocked tool", msg: toolCall(3, "exec", `{"cmd":"id"}`), wantCode: -32001, wantAudit: "BLOCK"},
		{name: "fullwidth tool name is normalized", msg: toolCall(3, "ｅｘｅｃ", `{}`), wantCode: -32001, wantAudit: "BLOCK"},
		{name: "tool not allowed", msg: toolCall(4, "rm", `{}`), wantCode: -32001, wantAudit: "BLOCK"},
		{name: "protected path", msg: toolCall(5, "read_file", `{"path":"/secret/../secret/key"}`), wantCode: -32007, wantAudit: "BLOCK"},
		{name: "token is stripped", msg: `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/work/a"},"_aip_aat":"eyJ.secret.token"}}`,
			wantForward: `"arguments":{"path":"/work/a"}`, notForward: "eyJ.secret.token", wantAudit: "ALLOW"},
		{name: "escaped token name is stripped", msg: `{"jsonrpc":"2.0","id":6,"method":"ping","params":{"\u005faip_aat":"eyJ.secret.token"}}`,
			wantForward: `"method":"ping"`, notForward: "eyJ.secret.token", wantAudit: "ALLOW"},
		{name: "duplicate params members refused", msg: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_file","name":"exec"}}`,
			wantCode: -32602, wantAudit: "BLOCK"},
		{name: "parse error", msg: `{"jsonrpc":"2.0",`, wantCode: -32700, wantAudit: "BLOCK"},
		{name: "not json-rpc", msg: `{"id":1,"method":"ping"}`, wantCode: -32600, wantAudit: "BLOCK"},
		{name: "client response passes unaudited", msg: `{"jsonrpc":"2.0","id":"srv-1","result":{}}`, wantForward: "srv-1", wantSame: true},
		{name: "request secret blocked", msg: toolCall(8, "send", `{"body":"`+awsKey+`"}`), wantCode: -32001, wantAudit: "BLOCK"},
		{name: "request secret redacted", onMatch: "redact", msg: toolCall(8, "send", `{"body":"`+awsKey+`"}`),
			wantForward: "[REDACTED:aws]", notForward: awsKey, wantAudit: "ALLOW"},
		{name: "request secret warned", onMatch: "warn", msg: toolCall(8, "send", `{"body":"`+awsKey+`"}`),
			wantForward: awsKey, wantSame: true, wantAudit: "ALLOW"},
		{name: "monitor forwards a blocked tool", mode: "monitor", msg: toolCall(9, "exec", `{}`),
			wantForward: "exec", wantSame: true, wantAudit: "ALLOW_MONITOR"},
		{name: "monitor still enforces protected paths", mode: "monitor", msg: toolCall(9, "read_file", `{"path":"/secret"}`),
			wantCode: -32007, wantAudit: "BLOCK"},
		{name: "batch element by element",
			msg:         `[` + toolCall(10, "read_file", `{"path":"/work/a"}`) + `,` + toolCall(11, "exec", `{}`) + `,{"bad":1}]`,
			wantForward: `[{"jsonrpc":"2.0","id":10`, wantCode: -1, wantAudit: "BLOCK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mode, onMatch := tc.mode, tc.onMatch
			if mode == "" {
				mode = "enforce"
			}
			if onMatch == "" {
				onMatch = "block"
			}
			e := newTestEngine(t, compileTest(t, mode, onMatch), nil)
			v := e.HandleRequest(context.Background(), []byte(tc.msg))
			if v.Pending() {
				t.Fatal("verdict is pending")
			}
			switch {
			case tc.wantForward == "" && v.Forward != nil:
				t.Errorf("forwarded %s; want nothing", v.Forward)
			case tc.wantForward != "" && !strings.Contains(string(v.Forward), tc.wantForward):
				t.Errorf("forwarded %s; want it to contain %s", v.Forward, tc.wantForward)
			case tc.wantSame && string(v.Forward) != tc.msg:
				t.Errorf("forwarded %s; want the message unchanged", v.Forward)
			}
			if tc.notForward != "" && strings.Contains(string(v.Forward), tc.notForward) {
				t.Errorf("forwarded %s, which contains %s", v.Forward, tc.notForward)
			}
			if v.Forward != nil {
				if _, err := jsonrpc.Parse(v.Forward); err != nil {
					t.Errorf("forwarded message does not parse: %v", err)
				}
			}
			switch {
			case tc.wantCode == 0 && v.Reply != nil:
				t.Errorf("replied %s; want no reply", v.Reply)
			case tc.wantCode == -1: // batch: check the codes inside
				if !strings.Contains(string(v.Reply), `"code":-32001`) || !strings.Contains(string(v.Reply), `"code":-32600`) {
					t.Errorf("batch reply %s; want -32001 and -32600 elements", v.Reply)
				}
			case tc.wantCode != 0 && errorCode(t, v.Reply) != tc.wantCode:
				t.Errorf("replied %s; want code %d", v.Reply, tc.wantCode)
			}
			recs := e.audit.records(t)
			if tc.wantAudit == "" {
				if len(recs) != 0 {
					t.Errorf("audited %+v; want no record", recs)
				}
			} else if len(recs) == 0 || string(recs[len(recs)-1].Decision) != tc.wantAudit {
				t.Errorf("audit records %+v; want the last to be %s", recs, tc.wantAudit)
			}
			for _, secret := range []string{awsKey, "eyJ.secret.token"} {
				if strings.Contains(e.audit.String(), secret) {
					t.Errorf("audit log contains %q", secret)
				}
			}
		})
	}
}

func TestDuplicateInFlightID(t *testing.T) {
	e := newTestEngine(t, compileTest(t, "enforce", "block"), nil)
	ctx := context.Background()
	first := e.HandleRequest(ctx, []byte(toolCall(1, "read_file", `{}`)))
	if first.Forward == nil {
		t.Fatal("first request not forwarded")
	}
	if v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":1.0,"method":"ping"}`)); errorCode(t, v.Reply) != -32600 || v.Forward != nil {
		t.Fatalf("reused in-flight id: forward %s reply %s; want -32600", v.Forward, v.Reply)
	}
	e.HandleResponse(ctx, []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
	if v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)); v.Forward == nil {
		t.Fatalf("id not released after the response: reply %s", v.Reply)
	}
}

func TestSetPolicySwaps(t *testing.T) {
	e := newTestEngine(t, compileTest(t, "enforce", "block"), nil)
	msg := []byte(toolCall(1, "exec", `{}`))
	if v := e.HandleRequest(context.Background(), msg); v.Forward != nil {
		t.Fatal("exec forwarded under enforce")
	}
	if err := e.SetPolicy(compileTest(t, "monitor", "block")); err != nil {
		t.Fatal(err)
	}
	if v := e.HandleRequest(context.Background(), msg); v.Forward == nil {
		t.Fatalf("exec not forwarded under the new monitor policy: %s", v.Reply)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New accepted a config without a policy")
	}
}

func TestCancelledIDCanBeReused(t *testing.T) {
	e := newTestEngine(t, compileTest(t, "enforce", "block"), nil)
	ctx := context.Background()
	e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":"c","method":"ping"}`))
	if v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":"c","method":"ping"}`)); v.Forward != nil {
		t.Fatal("in-flight id reused")
	}
	if v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c"}}`)); v.Forward == nil {
		t.Fatalf("cancellation not forwarded: %s", v.Reply)
	}
	if v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":"c","method":"ping"}`)); v.Forward == nil {
		t.Fatalf("id of a cancelled request not reusable: %s", v.Reply)
	}
}

// server/discover, which MCP clients send on every connection, is refused
// under the default methods and audited, but logged at DEBUG, not INFO;
// other method refusals stay at INFO.
func TestServerDiscoverRefusedQuietly(t *testing.T) {
	var logs syncBuffer
	e, err := New(Config{
		Policy: compileTest(t, "enforce", "block"),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}`))
	if errorCode(t, v.Reply) != -32006 || v.Forward != nil {
		t.Fatalf("server/discover: forward %s reply %s; want -32006", v.Forward, v.Reply)
	}
	e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{}}`))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want two log lines, got:\n%s", logs.String())
	}
	if !strings.Contains(lines[0], "level=DEBUG") || !strings.Contains(lines[0], "method=server/discover") {
		t.Errorf("server/discover refusal logged as %q; want DEBUG", lines[0])
	}
	if !strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "method=resources/read") {
		t.Errorf("resources/read refusal logged as %q; want INFO", lines[1])
	}
}
