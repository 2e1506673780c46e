package stacktest

import "bytes"

// JSONRPCMessage is the JSON-RPC message of a Streamable HTTP answer's
// body b: b itself when it is JSON, the first event's data when it is an
// SSE stream.
func JSONRPCMessage(b []byte) []byte {
	if i := bytes.Index(b, []byte("data: ")); i >= 0 {
		b = b[i+len("data: "):]
		if j := bytes.IndexByte(b, '\n'); j >= 0 {
			b = b[:j]
		}
	}
	return b
}
