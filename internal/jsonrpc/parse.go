package jsonrpc

import (
	"bytes"
	"encoding/json"

	"github.com/aip-project/aip/internal/jsonvalid"
)

// Parse classifies one message line. Invalid JSON is a *ProtocolError with
// codes.ParseError and a null id; JSON that is not a JSON-RPC 2.0 message
// (or an empty batch) is codes.InvalidRequest, with the id when it could be
// read. A batch parses without error when its elements are invalid: each
// such element carries its own Err, as JSON-RPC answers them one by one.
func Parse(line []byte) (Message, error) {
	b := trimSpace(line)
	if len(b) == 0 {
		return Message{}, parseError("empty message")
	}
	if !jsonvalid.Valid(b) {
		return Message{}, parseError("message is not valid JSON")
	}
	switch b[0] {
	case '{':
		m, perr := parseObject(b)
		if perr != nil {
			return Message{}, perr
		}
		return m, nil
	case '[':
		return parseBatch(b)
	}
	return Message{}, invalidRequest(nil, "message must be a JSON object or a batch array")
}

func parseBatch(b []byte) (Message, error) {
	batch := Message{Kind: KindBatch, Raw: b}
	_ = eachElement(b, func(elem []byte) error {
		m, perr := parseObject(elem)
		if perr != nil {
			m = Message{Kind: KindInvalid, Raw: elem, Err: perr}
		}
		batch.Batch = append(batch.Batch, m)
		return nil
	})
	if len(batch.Batch) == 0 {
		return Message{}, invalidRequest(nil, "empty batch")
	}
	return batch, nil
}

// members is the JSON-RPC envelope as raw values; nil means absent.
type members struct {
	jsonrpc, id, method, params, result, error []byte
}

var envelopeNames = [...]string{"jsonrpc", "id", "method", "params", "result", "error"}

func (f *members) slot(name []byte) *[]byte {
	switch string(name) {
	case "jsonrpc":
		return &f.jsonrpc
	case "id":
		return &f.id
	case "method":
		return &f.method
	case "params":
		return &f.params
	case "result":
		return &f.result
	case "error":
		return &f.error
	}
	return nil
}

func parseObject(b []byte) (Message, *ProtocolError) {
	if len(b) == 0 || b[0] != '{' {
		return Message{}, invalidRequest(nil, "message must be a JSON object")
	}
	var f members
	var bad *ProtocolError
	_ = eachMember(b, func(name, value []byte) error {
		if bad != nil {
			return nil //nolint:nilerr // keep scanning for the id; the first problem is kept in bad
		}
		if p := f.slot(name); p != nil {
			if *p != nil {
				bad = invalidRequest(nil, "member %s appears more than once", quoteName(name))
			}
			*p = value
			return nil
		}
		for _, known := range envelopeNames {
			if bytes.EqualFold(name, []byte(known)) {
				bad = invalidRequest(nil, "member %s must be spelled %q", quoteName(name), known)
			}
		}
		return nil
	})
	id := validID(f.id)
	if bad != nil {
		bad.ID = id
		return Message{}, bad
	}
	return classify(b, &f, id)
}

func classify(b []byte, f *members, id json.RawMessage) (Message, *ProtocolError) {
	if v, ok := stringValue(f.jsonrpc); !ok || v != "2.0" {
		return Message{}, invalidRequest(id, `member "jsonrpc" must be "2.0"`)
	}
	if f.id != nil && id == nil {
		return Message{}, invalidRequest(nil, `member "id" must be a string, a number or null`)
	}
	m := Message{Raw: b, ID: id}
	if f.method != nil {
		method, ok := stringValue(f.method)
		if !ok {
			return Message{}, invalidRequest(id, `member "method" must be a string`)
		}
		if f.result != nil || f.error != nil {
			return Message{}, invalidRequest(id, `a request has no "result" or "error"`)
		}
		if f.params != nil && f.params[0] != '{' && f.params[0] != '[' {
			return Message{}, invalidRequest(id, `member "params" must be an object or an array`)
		}
		m.Method, m.Params = method, f.params
		switch {
		case f.id == nil:
			m.Kind = KindNotification
		case f.id[0] == 'n':
			return Message{}, invalidRequest(nil, `a request id must not be null`)
		default:
			m.Kind = KindRequest
		}
		return m, nil
	}
	switch {
	case f.id == nil:
		return Message{}, invalidRequest(nil, `message has neither "method" nor "id"`)
	case f.params != nil:
		return Message{}, invalidRequest(id, `a response has no "params"`)
	case (f.result == nil) == (f.error == nil):
		return Message{}, invalidRequest(id, `a response has exactly one of "result" and "error"`)
	case f.error != nil && f.error[0] != '{':
		return Message{}, invalidRequest(id, `member "error" must be an object`)
	}
	m.Kind, m.Result, m.Error = KindResponse, f.result, f.error
	return m, nil
}

// validID returns raw when it is a valid id token (string, number, null).
func validID(raw []byte) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	switch c := raw[0]; {
	case c == '"', c == 'n', c == '-', c >= '0' && c <= '9':
		return raw
	}
	return nil
}
