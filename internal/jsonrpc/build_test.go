package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

func TestErrorResponse(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		code    codes.Code
		message string
		data    any
		want    string
	}{
		{"aip forbidden", `7`, codes.Forbidden, "", map[string]string{"tool": "exec", "reason": "not in allowed_tools"},
			`{"jsonrpc":"2.0","id":7,"error":{"code":-32001,"message":"Forbidden","data":{"reason":"not in allowed_tools","tool":"exec"}}}`},
		{"id verbatim", `"a\u0062"`, codes.MethodNotAllowed, "", nil,
			`{"jsonrpc":"2.0","id":"a\u0062","error":{"code":-32006,"message":"Method not allowed"}}`},
		{"nil id is null", ``, codes.ParseError, "", nil,
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`},
		{"invalid id is null", `{"x":1}`, codes.InternalError, "", nil,
			`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}`},
		{"custom message escaped", `1`, codes.RateLimited, "say \"no\"\n", json.RawMessage(` {"n":1} `),
			`{"jsonrpc":"2.0","id":1,"error":{"code":-32002,"message":"say \"no\"\n","data":{"n":1}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id json.RawMessage
			if tt.id != "" {
				id = json.RawMessage(tt.id)
			}
			got, err := ErrorResponse(id, tt.code, tt.message, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if m, err := Parse(got); err != nil || m.Kind != KindResponse {
				t.Errorf("response does not parse as a response: %v", err)
			}
		})
	}
	if _, err := ErrorResponse(nil, codes.Forbidden, "", func() {}); err == nil {
		t.Error("unmarshalable data: want error")
	}
	if _, err := ErrorResponse(nil, codes.Forbidden, "", json.RawMessage(`{`)); err == nil {
		t.Error("invalid raw data: want error")
	}
}

func TestProtocolErrorResponse(t *testing.T) {
	_, err := Parse([]byte(`{"jsonrpc":"2.0","id":"q","method":5}`))
	var perr *ProtocolError
	if !errors.As(err, &perr) {
		t.Fatalf("want ProtocolError, got %v", err)
	}
	want := `{"jsonrpc":"2.0","id":"q","error":{"code":-32600,"message":"Invalid Request","data":{"reason":"member \"method\" must be a string"}}}`
	if got := string(perr.Response()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestResultResponse(t *testing.T) {
	got, err := ResultResponse(json.RawMessage(`"r1"`), json.RawMessage(` {"content":[]} `))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"jsonrpc":"2.0","id":"r1","result":{"content":[]}}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := ResultResponse(json.RawMessage(`1`), json.RawMessage(`{`)); err == nil {
		t.Error("invalid result: want error")
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&syncWriter{w: &buf})
	tests := []struct {
		name    string
		msg     string
		wantErr bool
	}{
		{"message", `{"a":1}`, false},
		{"empty", ``, true},
		{"embedded newline", "{}\n{}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.WriteMessage([]byte(tt.msg)); (err != nil) != tt.wantErr {
				t.Errorf("WriteMessage(%q) error = %v, wantErr %v", tt.msg, err, tt.wantErr)
			}
		})
	}
	if buf.String() != "{\"a\":1}\n" {
		t.Errorf("output = %q", buf.String())
	}
}

func TestWriterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&syncWriter{w: &buf})
	msg := `{"jsonrpc":"2.0","method":"` + strings.Repeat("m", 5000) + `"}`
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if err := w.WriteMessage([]byte(msg)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	r := NewReader(&buf, 0)
	n := 0
	for {
		line, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || string(line) != msg {
			t.Fatalf("line %d interleaved or broken: %v", n, err)
		}
		n++
	}
	if n != 200 {
		t.Errorf("read %d messages, want 200", n)
	}
}

// syncWriter checks that Writer issues one Write per message.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	if !s.mu.TryLock() {
		panic("concurrent Write calls")
	}
	defer s.mu.Unlock()
	return s.w.Write(p)
}
