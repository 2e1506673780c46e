package stdio

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// FuzzClientLine feeds arbitrary lines through the proxy's client-side
// handling: it must never panic, never forward a line that is not
// JSON-RPC, and only ever write valid JSON-RPC to the server and valid
// JSON to the client. Server lines get the same checks the other way.
func FuzzClientLine(f *testing.F) {
	seeds := []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"x":"AKIAZ7QXW3JH5NB2LMKD"}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":{}}}`,
		`{"jsonrpc":"2.0","id":"a","method":"ping","params":{"_aip_aat":"tok"}}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","method":"notifications/initialized"},1]`,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"exec"}]}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"exec"}}`,
		`{"jsonrpc":"2.0","ID":1,"method":"x"}`,
		`[]`, `{`, `"x"`, `null`, "\xff\xfe",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := testEngine(f, nil)
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // the reader splits lines before the relay sees them
		}
		var toServer, toClient bytes.Buffer
		r := newRelay(e, &toServer, &toClient, 0, slog.New(slog.DiscardHandler))
		r.clientLine(context.Background(), line)
		r.asks.Wait()
		if _, err := jsonrpc.Parse(line); err != nil && toServer.Len() > 0 {
			t.Fatalf("forwarded %q for an unparseable line", toServer.Bytes())
		}
		for _, out := range bytes.Split(bytes.TrimSuffix(toServer.Bytes(), []byte("\n")), []byte("\n")) {
			if len(out) == 0 {
				continue
			}
			m, err := jsonrpc.Parse(out)
			if err != nil {
				t.Fatalf("forwarded %q, which is not JSON-RPC: %v", out, err)
			}
			checkForwarded(t, m)
		}
		for _, out := range bytes.Split(bytes.TrimSuffix(toClient.Bytes(), []byte("\n")), []byte("\n")) {
			if len(out) > 0 && !json.Valid(out) {
				t.Fatalf("replied %q, which is not JSON", out)
			}
		}
		if resp := e.HandleResponse(context.Background(), line); resp != nil && !json.Valid(resp) {
			t.Fatalf("passed %q to the client, which is not JSON", resp)
		}
	})
}

// checkForwarded fails if a forwarded request carries params._aip_aat or
// an empty method (which the policy would read as a response).
func checkForwarded(t *testing.T, m jsonrpc.Message) {
	t.Helper()
	for i := range m.Batch {
		checkForwarded(t, m.Batch[i])
	}
	if m.Kind != jsonrpc.KindRequest && m.Kind != jsonrpc.KindNotification {
		return
	}
	if m.Method == "" {
		t.Fatalf("forwarded a request without a method: %q", m.Raw)
	}
	if len(m.Params) == 0 || m.Params[0] != '{' {
		return
	}
	ms, err := jsonrpc.Members(m.Params)
	if err != nil {
		// Repeated names outside tools/call are not the policy's business,
		// but they must not hide a token.
		if bytes.Contains(m.Params, []byte(enforcer.AATParam)) || bytes.IndexByte(m.Params, '\\') >= 0 {
			t.Fatalf("forwarded unreadable params that may hold a token: %q", m.Raw)
		}
		return
	}
	for _, mb := range ms {
		if mb.Name == enforcer.AATParam {
			t.Fatalf("forwarded a token: %q", m.Raw)
		}
	}
}
