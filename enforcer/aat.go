package enforcer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// AATParam is the params member in which a client may send an Agent
// Authentication Token over stdio. The engine removes it before
// forwarding; it is never logged, audited or sent to the server.
const AATParam = "_aip_aat"

var aatName = []byte(AATParam)

// stripAAT removes params._aip_aat. It returns params unchanged (and false)
// when the member is absent; an object whose member names repeat is an
// error, as the server might read it differently.
func stripAAT(params json.RawMessage) (json.RawMessage, bool, error) {
	if len(params) == 0 || params[0] != '{' {
		return params, false, nil
	}
	// Fast path: the name cannot be present, even escaped.
	if !bytes.Contains(params, aatName) && bytes.IndexByte(params, '\\') < 0 {
		return params, false, nil
	}
	ms, err := jsonrpc.Members(params)
	if err != nil {
		if errors.Is(err, jsonrpc.ErrDuplicateMember) {
			return nil, false, fmt.Errorf("params: %w", err)
		}
		return nil, false, fmt.Errorf("params must be a JSON object: %w", err)
	}
	found := false
	for _, m := range ms {
		if m.Name == AATParam {
			found = true
			break
		}
	}
	if !found {
		return params, false, nil
	}
	kept := ms[:0:0]
	for _, m := range ms {
		if m.Name != AATParam {
			kept = append(kept, m)
		}
	}
	return writeObject(kept), true, nil
}

// asProtocolError returns err as a *jsonrpc.ProtocolError, or a parse
// error when it is not one.
func asProtocolError(err error) *jsonrpc.ProtocolError {
	var perr *jsonrpc.ProtocolError
	if errors.As(err, &perr) && perr != nil {
		return perr
	}
	return &jsonrpc.ProtocolError{Code: codes.ParseError, Reason: "message is not valid JSON-RPC"}
}
