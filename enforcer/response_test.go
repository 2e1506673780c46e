package enforcer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/policy"
)

func TestHandleResponse(t *testing.T) {
	tests := []struct {
		name     string
		request  string // sent first, so the response is matched to it
		response string
		want     []string // substrings of what the client gets
		notWant  []string
		nilOut   bool
		dlpAudit bool // a downstream record with dlp counts
	}{
		{name: "clean result passes unchanged", request: toolCall(1, "read_file", `{}`),
			response: `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}}`,
			want:     []string{`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}}`}},
		{name: "secret in text redacted", request: toolCall(1, "read_file", `{}`),
			response: `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"key ` + awsKey + `"}]}}`,
			want:     []string{"[REDACTED:aws]", `"id":1`}, notWant: []string{awsKey}, dlpAudit: true},
		{name: "secret in structuredContent redacted", request: toolCall(1, "read_file", `{}`),
			response: `{"jsonrpc":"2.0","id":1,"result":{"content":[],"structuredContent":{"k":{"v":["` + awsKey + `"]}}}}`,
			want:     []string{"[REDACTED:aws]"}, notWant: []string{awsKey}, dlpAudit: true},
		{name: "secret in error redacted", request: toolCall(1, "read_file", `{}`),
			response: `{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"` + awsKey + `"}}`,
			want:     []string{"[REDACTED:aws]"}, notWant: []string{awsKey}, dlpAudit: true},
		{name: "unmatched response still redacted",
			response: `{"jsonrpc":"2.0","id":77,"result":{"x":"` + awsKey + `"}}`,
			want:     []string{"[REDACTED:aws]"}, notWant: []string{awsKey}, dlpAudit: true},
		{name: "server notification redacted",
			response: `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"` + awsKey + `"}}`,
			want:     []string{"[REDACTED:aws]", "notifications/message"}, notWant: []string{awsKey}, dlpAudit: true},
		{name: "tools/list filtered", request: `{"jsonrpc":"2.0","id":"l","method":"tools/list"}`,
			response: `{"jsonrpc":"2.0","id":"l","result":{"tools":[{"name":"read_file","inputSchema":{}},{"name":"exec","inputSchema":{}},{"name":"rm","inputSchema":{}},{"name":"deploy","inputSchema":{}},{"name":"pinned","inputSchema":{}}],"nextCursor":"c"}}`,
			want:     []string{`"read_file"`, `"deploy"`, `"nextCursor":"c"`}, notWant: []string{`"exec"`, `"rm"`, `"pinned"`}},
		{name: "malformed tools/list withheld", request: `{"jsonrpc":"2.0","id":"l","method":"tools/list"}`,
			response: `{"jsonrpc":"2.0","id":"l","result":{"tools":"nope"}}`, want: []string{`"code":-32603`}},
		{name: "garbage from server dropped", response: `not json`, nilOut: true},
		{name: "server batch element by element", request: toolCall(1, "read_file", `{}`),
			response: `[{"jsonrpc":"2.0","id":1,"result":{"t":"` + awsKey + `"}},{"bad":true}]`,
			want:     []string{`[{"jsonrpc":"2.0","id":1,"result":{"t":"[REDACTED:aws]"}}]`}, notWant: []string{awsKey}, dlpAudit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, compileTest(t, "enforce", "block"), nil)
			ctx := context.Background()
			if tc.request != "" {
				if v := e.HandleRequest(ctx, []byte(tc.request)); v.Forward == nil {
					t.Fatalf("request not forwarded: %s", v.Reply)
				}
			}
			out := e.HandleResponse(ctx, []byte(tc.response))
			if tc.nilOut {
				if out != nil {
					t.Fatalf("passed on %s; want nothing", out)
				}
				return
			}
			if !json.Valid(out) {
				t.Fatalf("output %q is not JSON", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output %s lacks %s", out, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("output %s contains %s", out, w)
				}
			}
			found := false
			for _, r := range e.audit.records(t) {
				if r.Direction == "downstream" && r.DLP["aws"] > 0 {
					found = true
				}
			}
			if found != tc.dlpAudit {
				t.Errorf("downstream dlp audit record: %v; want %v", found, tc.dlpAudit)
			}
			if strings.Contains(e.audit.String(), awsKey) {
				t.Error("audit log holds the secret")
			}
		})
	}
}

// A tool whose schema does not match its schema_hash is hidden, and calls
// to it get -32013 until a policy pins its real hash.
func TestSchemaMismatch(t *testing.T) {
	e := newTestEngine(t, compileTest(t, "enforce", "block"), nil)
	ctx := context.Background()
	entry := `{"name":"pinned","description":"d","inputSchema":{"type":"object"}}`
	e.HandleRequest(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	out := e.HandleResponse(ctx, []byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[`+entry+`]}}`))
	if strings.Contains(string(out), "pinned") {
		t.Fatalf("mismatching tool listed: %s", out)
	}
	if v := e.HandleRequest(ctx, []byte(toolCall(2, "pinned", `{}`))); errorCode(t, v.Reply) != -32013 {
		t.Fatalf("call to mismatching tool: forward %s reply %s; want -32013", v.Forward, v.Reply)
	}

	hash, err := policy.SchemaHash(json.RawMessage(entry))
	if err != nil {
		t.Fatal(err)
	}
	y := strings.NewReplacer("MODE", "enforce", "ON_MATCH", "block",
		"sha256:0000000000000000000000000000000000000000000000000000000000000000", hash).Replace(testPolicy)
	doc, err := policy.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Compile(doc, policy.Options{HomeDir: "/home/agent", WorkDir: "/work"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetPolicy(p); err != nil {
		t.Fatal(err)
	}
	if v := e.HandleRequest(ctx, []byte(toolCall(3, "pinned", `{}`))); v.Forward == nil {
		t.Fatalf("call still refused after the policy pinned the real hash: %s", v.Reply)
	}
}
