package jsonrpc

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/internal/jsonvalid"
)

// ErrorResponse builds {"jsonrpc":"2.0","id":id,"error":{"code","message",
// "data"}} without a line terminator. id is written verbatim (nil or an
// invalid id token becomes null); message "" means code.Message(); data nil
// is omitted, a json.RawMessage is written as is, anything else is
// marshaled.
func ErrorResponse(id json.RawMessage, code codes.Code, message string, data any) ([]byte, error) {
	raw, err := marshalData(data)
	if err != nil {
		return nil, fmt.Errorf("build error response: %w", err)
	}
	return appendError(nil, id, code, message, raw), nil
}

// ResultResponse builds {"jsonrpc":"2.0","id":id,"result":result}; the proxy
// uses it to send on a result it has rewritten (e.g. redacted). result must
// be valid JSON.
func ResultResponse(id json.RawMessage, result json.RawMessage) ([]byte, error) {
	if !jsonvalid.Valid(result) {
		return nil, fmt.Errorf("build result response: result is not valid JSON")
	}
	b := make([]byte, 0, len(result)+len(id)+32)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = appendID(b, id)
	b = append(b, `,"result":`...)
	b = append(b, trimSpace(result)...)
	return append(b, '}'), nil
}

func appendError(b []byte, id json.RawMessage, code codes.Code, message string, data json.RawMessage) []byte {
	if message == "" {
		message = code.Message()
	}
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = appendID(b, id)
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	if len(data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, data...)
	}
	return append(b, "}}"...)
}

func appendID(b []byte, id json.RawMessage) []byte {
	id = trimSpace(id)
	if validID(id) == nil || !json.Valid(id) {
		return append(b, "null"...)
	}
	return append(b, id...)
}

func appendString(b []byte, s string) []byte {
	q, err := json.Marshal(s) // strings always marshal
	if err != nil {
		return append(b, `""`...)
	}
	return append(b, q...)
}

func marshalData(data any) (json.RawMessage, error) {
	switch d := data.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if !json.Valid(d) {
			return nil, fmt.Errorf("data is not valid JSON")
		}
		return trimSpace(d), nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("marshal data: %w", err)
	}
	return b, nil
}

func reasonData(reason string) json.RawMessage {
	return append(appendString([]byte(`{"reason":`), reason), '}')
}
