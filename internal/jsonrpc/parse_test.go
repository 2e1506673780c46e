package jsonrpc

import (
	"errors"
	"strings"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

func TestParseClassifies(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		kind   Kind
		id     string
		method string
		params string
	}{
		{"request number id", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, KindRequest, `1`, "ping", ""},
		{"request string id", `{"jsonrpc":"2.0","id":"a-1","method":"tools/list","params":{}}`, KindRequest, `"a-1"`, "tools/list", `{}`},
		{"id kept byte for byte", `{"jsonrpc":"2.0","id":1.50e+3,"method":"x"}`, KindRequest, `1.50e+3`, "x", ""},
		{"escaped id kept", `{"jsonrpc":"2.0","id":"\u0061\n","method":"x"}`, KindRequest, `"\u0061\n"`, "x", ""},
		{"huge number id", `{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"x"}`, KindRequest, `123456789012345678901234567890`, "x", ""},
		{"escaped method", `{"jsonrpc":"2.0","id":1,"method":"tools\/call"}`, KindRequest, `1`, "tools/call", ""},
		{"whitespace around", " \t{ \"method\" : \"ping\" , \"id\" : 7 , \"jsonrpc\" : \"2.0\" }\r ", KindRequest, `7`, "ping", ""},
		{"params array", `{"jsonrpc":"2.0","id":2,"method":"m","params":[1,2]}`, KindRequest, `2`, "m", `[1,2]`},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, KindNotification, "", "notifications/initialized", ""},
		{"result response", `{"jsonrpc":"2.0","id":3,"result":{"ok":true}}`, KindResponse, `3`, "", ""},
		{"error response null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`, KindResponse, `null`, "", ""},
		{"unknown members ignored", `{"jsonrpc":"2.0","id":1,"method":"x","_meta":{}}`, KindRequest, `1`, "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.line))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.Kind != tt.kind || string(m.ID) != tt.id || m.Method != tt.method || string(m.Params) != tt.params {
				t.Errorf("got kind=%v id=%s method=%q params=%s; want %v %s %q %s",
					m.Kind, m.ID, m.Method, m.Params, tt.kind, tt.id, tt.method, tt.params)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		line string
		code codes.Code
		id   string // id carried by the error; "" means null
	}{
		{"empty", ``, codes.ParseError, ""},
		{"spaces", "  \t", codes.ParseError, ""},
		{"corrupt", `{"jsonrpc":"2.0","id":1,"method":`, codes.ParseError, ""},
		{"trailing garbage", `{"jsonrpc":"2.0","id":1,"method":"x"} x`, codes.ParseError, ""},
		{"two objects", `{"jsonrpc":"2.0","id":1,"method":"x"}{}`, codes.ParseError, ""},
		{"scalar", `42`, codes.InvalidRequest, ""},
		{"string", `"ping"`, codes.InvalidRequest, ""},
		{"empty object", `{}`, codes.InvalidRequest, ""},
		{"empty batch", `[]`, codes.InvalidRequest, ""},
		{"no jsonrpc", `{"id":1,"method":"x"}`, codes.InvalidRequest, "1"},
		{"wrong version", `{"jsonrpc":"1.0","id":1,"method":"x"}`, codes.InvalidRequest, "1"},
		{"version number", `{"jsonrpc":2.0,"id":1,"method":"x"}`, codes.InvalidRequest, "1"},
		{"method not string", `{"jsonrpc":"2.0","id":1,"method":5}`, codes.InvalidRequest, "1"},
		{"id object", `{"jsonrpc":"2.0","id":{},"method":"x"}`, codes.InvalidRequest, ""},
		{"id bool", `{"jsonrpc":"2.0","id":true,"method":"x"}`, codes.InvalidRequest, ""},
		{"request id null", `{"jsonrpc":"2.0","id":null,"method":"x"}`, codes.InvalidRequest, ""},
		{"params scalar", `{"jsonrpc":"2.0","id":1,"method":"x","params":"a"}`, codes.InvalidRequest, "1"},
		{"request with result", `{"jsonrpc":"2.0","id":1,"method":"x","result":1}`, codes.InvalidRequest, "1"},
		{"response both", `{"jsonrpc":"2.0","id":1,"result":1,"error":{}}`, codes.InvalidRequest, "1"},
		{"response neither", `{"jsonrpc":"2.0","id":1}`, codes.InvalidRequest, "1"},
		{"response error string", `{"jsonrpc":"2.0","id":1,"error":"bad"}`, codes.InvalidRequest, "1"},
		{"duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, codes.InvalidRequest, "1"},
		{"duplicate id", `{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}`, codes.InvalidRequest, "2"},
		{"case variant method", `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`, codes.InvalidRequest, "1"},
		{"escaped duplicate", `{"jsonrpc":"2.0","id":1,"method":"ping","\u006dethod":"tools/call"}`, codes.InvalidRequest, "1"},
		{"long s folds to s", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"param\u017F\":{}}", codes.InvalidRequest, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.line))
			var perr *ProtocolError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse error = %v, want *ProtocolError", err)
			}
			if perr.Code != tt.code || string(perr.ID) != tt.id {
				t.Errorf("code=%d id=%s, want %d %s (%v)", perr.Code, perr.ID, tt.code, tt.id, err)
			}
			wantSentinel := map[codes.Code]error{codes.ParseError: ErrParse, codes.InvalidRequest: ErrInvalidRequest}[tt.code]
			if !errors.Is(err, wantSentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, wantSentinel)
			}
			if msg := err.Error(); perr.Reason == "" || msg[:1] != strings.ToLower(msg[:1]) {
				t.Errorf("error %q: want a lowercase error with a reason", msg)
			}
		})
	}
}

func TestParseBatch(t *testing.T) {
	line := `[{"jsonrpc":"2.0","id":1,"method":"a"}, 5, {"jsonrpc":"2.0","method":"n"}, {"jsonrpc":"2.0","id":"x"}, [] ]`
	m, err := Parse([]byte(line))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m.Kind != KindBatch {
		t.Fatalf("kind = %v, want batch", m.Kind)
	}
	want := []struct {
		kind Kind
		raw  string
		code codes.Code
		id   string
	}{
		{KindRequest, `{"jsonrpc":"2.0","id":1,"method":"a"}`, 0, ""},
		{KindInvalid, `5`, codes.InvalidRequest, ""},
		{KindNotification, `{"jsonrpc":"2.0","method":"n"}`, 0, ""},
		{KindInvalid, `{"jsonrpc":"2.0","id":"x"}`, codes.InvalidRequest, `"x"`},
		{KindInvalid, `[]`, codes.InvalidRequest, ""},
	}
	if len(m.Batch) != len(want) {
		t.Fatalf("batch has %d elements, want %d", len(m.Batch), len(want))
	}
	for i, w := range want {
		e := m.Batch[i]
		if e.Kind != w.kind || string(e.Raw) != w.raw {
			t.Errorf("element %d: kind=%v raw=%s, want %v %s", i, e.Kind, e.Raw, w.kind, w.raw)
		}
		if w.kind == KindInvalid && (e.Err == nil || e.Err.Code != w.code || string(e.Err.ID) != w.id) {
			t.Errorf("element %d: err=%+v, want code %d id %s", i, e.Err, w.code, w.id)
		}
	}
}
