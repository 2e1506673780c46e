// Package jsonvalid checks that bytes are one JSON value, exactly as
// encoding/json.Valid does (RFC 8259 grammar, nesting at most 10000 deep,
// string bytes not checked as UTF-8), several times faster: the enforcer
// validates every message, and the arguments and results inside it, on
// the hot path. FuzzValid holds it equal to json.Valid.
//
// It only answers yes or no: callers that need a reason or a position use
// encoding/json.
package jsonvalid
