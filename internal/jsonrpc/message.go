package jsonrpc

import "encoding/json"

// Kind classifies a message.
type Kind int

// Message kinds.
const (
	KindInvalid      Kind = iota // a batch element that is not JSON-RPC 2.0; see Message.Err
	KindRequest                  // method and id: expects a response
	KindNotification             // method, no id
	KindResponse                 // result or error, and id
	KindBatch                    // an array of messages; see Message.Batch
)

// String returns the kind's name, e.g. "request".
func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	case KindBatch:
		return "batch"
	}
	return "invalid"
}

// Message is one classified JSON-RPC 2.0 message. Raw fields are sub-slices
// of the parsed line, exactly as sent: an id written back with them
// round-trips byte for byte.
type Message struct {
	Kind Kind
	// Raw is the whole message (for a batch element: the element).
	Raw json.RawMessage
	// ID is the id as sent (a string, a number or null); nil for
	// notifications and batches.
	ID json.RawMessage
	// Method is the decoded method of a request or notification, not
	// normalized: comparing it to policy is the caller's job.
	Method string
	// Params is the raw params (an object or an array), nil when absent.
	Params json.RawMessage
	// Result and Error are the raw members of a response; exactly one is set.
	Result json.RawMessage
	Error  json.RawMessage
	// Batch holds the elements of a batch, each classified; an element that
	// is not JSON-RPC 2.0 has KindInvalid and Err set.
	Batch []Message
	// Err says why a batch element is invalid.
	Err *ProtocolError
}
