package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/aip-project/aip/enforcer/codes"
)

// FuzzParse feeds arbitrary bytes through framing and parsing. Bad inputs
// (corrupt, empty, wrong types, deep nesting, huge numbers) are seeded
// from testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,{"b":null}]}}}`,
		`[{"jsonrpc":"2.0","id":"1","method":"a"},{"jsonrpc":"2.0","id":2,"result":{}}]`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"n\"}\n{\"jsonrpc\":\"2.0\",\"id\":-0.5e3,\"error\":{}}\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 1<<16)
		for {
			line, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if errors.Is(err, ErrTooLarge) {
				continue
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("framed line contains a newline: %q", line)
			}
			checkParse(t, line)
		}
	})
}

func checkParse(t *testing.T, line []byte) {
	m, err := Parse(line)
	if err != nil {
		var perr *ProtocolError
		if !errors.As(err, &perr) {
			t.Fatalf("Parse error %v is not a *ProtocolError", err)
		}
		checkRoundTrip(t, perr.ID, perr.Response())
		return
	}
	if !json.Valid(line) {
		t.Fatalf("Parse accepted invalid JSON %q", line)
	}
	msgs := []Message{m}
	if m.Kind == KindBatch {
		msgs = m.Batch
	}
	for i := range msgs {
		e := &msgs[i]
		switch e.Kind {
		case KindInvalid:
			if e.Err == nil {
				t.Fatal("invalid batch element without Err")
			}
			checkRoundTrip(t, e.Err.ID, e.Err.Response())
		case KindRequest:
			resp, err := ErrorResponse(e.ID, codes.Forbidden, "", map[string]string{"tool": "t"})
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, e.ID, resp)
			if tc, err := e.ToolCall(); err == nil && tc.Name == "" {
				t.Fatal("ToolCall accepted an empty name")
			}
		case KindBatch:
			t.Fatal("nested batch accepted")
		}
	}
}

// checkRoundTrip checks that resp parses as a response carrying id exactly.
func checkRoundTrip(t *testing.T, id json.RawMessage, resp []byte) {
	t.Helper()
	m, err := Parse(resp)
	if err != nil || m.Kind != KindResponse {
		t.Fatalf("response %s does not parse as a response: %v", resp, err)
	}
	want := string(id)
	if want == "" {
		want = "null"
	}
	if string(m.ID) != want {
		t.Fatalf("id did not round-trip: sent %s, got %s", want, m.ID)
	}
}
