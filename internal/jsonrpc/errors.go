package jsonrpc

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aip-project/aip/enforcer/codes"
)

// Sentinels a ProtocolError unwraps to, by code.
var (
	ErrParse          = errors.New("parse error")      // -32700: not JSON
	ErrInvalidRequest = errors.New("invalid request")  // -32600: JSON, not JSON-RPC 2.0
	ErrInvalidParams  = errors.New("invalid params")   // -32602: e.g. a malformed tools/call
	errProtocol       = errors.New("jsonrpc protocol") // any other code
)

// ProtocolError is a message that is not valid JSON-RPC 2.0, or a request
// whose params are malformed. It carries what the error response needs.
type ProtocolError struct {
	Code   codes.Code      // codes.ParseError, codes.InvalidRequest or codes.InvalidParams
	ID     json.RawMessage // the request's id when it could be read, else nil (null)
	Reason string          // what is wrong, for a person; never echoes values
}

// Error returns the sentinel's text and the reason.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%v: %s", e.Unwrap(), e.Reason)
}

// Unwrap returns the sentinel for e.Code, so callers can use errors.Is.
func (e *ProtocolError) Unwrap() error {
	switch e.Code {
	case codes.ParseError:
		return ErrParse
	case codes.InvalidRequest:
		return ErrInvalidRequest
	case codes.InvalidParams:
		return ErrInvalidParams
	}
	return errProtocol
}

// Response returns the JSON-RPC error response for e, with data {reason}.
func (e *ProtocolError) Response() []byte {
	return appendError(nil, e.ID, e.Code, "", reasonData(e.Reason))
}

func parseError(reason string) *ProtocolError {
	return &ProtocolError{Code: codes.ParseError, Reason: reason}
}

func invalidRequest(id json.RawMessage, format string, a ...any) *ProtocolError {
	return &ProtocolError{Code: codes.InvalidRequest, ID: id, Reason: fmt.Sprintf(format, a...)}
}

func invalidParams(id json.RawMessage, format string, a ...any) *ProtocolError {
	return &ProtocolError{Code: codes.InvalidParams, ID: id, Reason: fmt.Sprintf(format, a...)}
}

// quoteName quotes an attacker-chosen member name for an error reason,
// shortened so a reason stays one readable line.
func quoteName(b []byte) string {
	const maxLen = 64
	if len(b) > maxLen {
		return fmt.Sprintf("%q...", b[:maxLen])
	}
	return fmt.Sprintf("%q", b)
}
