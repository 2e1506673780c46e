package sidecar

import (
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aip-project/aip/internal/jsonrpc"
)

// idSeq numbers the ids the sidecar gives requests. Clients choose their
// ids independently (every MCP client starts at 0 or 1), and the Engine
// tracks in-flight requests by id, so each request is renamed on the way
// in and its response renamed back on the way out.
type idSeq struct{ n atomic.Uint64 }

// idMap holds the renamed ids of one POST: sidecar id -> client id.
type idMap struct {
	mu   sync.Mutex
	orig map[string]json.RawMessage
}

// rename gives every request in body a fresh id and returns the new body;
// m is body as jsonrpc.Parse read it, nil when it is not JSON-RPC: then
// body is returned as is, for the Engine to refuse.
func (s *idSeq) rename(body []byte, m *jsonrpc.Message, ids *idMap) []byte {
	if m == nil {
		return body
	}
	if m.Kind != jsonrpc.KindBatch {
		if m.Kind != jsonrpc.KindRequest {
			return body
		}
		return s.renameOne(m, ids)
	}
	out := make([][]byte, len(m.Batch))
	for i := range m.Batch {
		out[i] = m.Batch[i].Raw
		if m.Batch[i].Kind == jsonrpc.KindRequest {
			out[i] = s.renameOne(&m.Batch[i], ids)
		}
	}
	return joinArray(out)
}

func (s *idSeq) renameOne(m *jsonrpc.Message, ids *idMap) []byte {
	idb := strconv.AppendUint(append(make([]byte, 0, 24), `"aip-`...), s.n.Add(1), 36)
	id := string(append(idb, '"'))
	b, ok := withID(m.Raw, json.RawMessage(id))
	if !ok {
		return m.Raw
	}
	ids.mu.Lock()
	if ids.orig == nil {
		ids.orig = map[string]json.RawMessage{}
	}
	ids.orig[id] = append(json.RawMessage(nil), m.ID...)
	ids.mu.Unlock()
	return b
}

// restore gives responses in msg back their client ids and forgets them.
func (ids *idMap) restore(msg []byte) []byte {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if len(ids.orig) == 0 || msg == nil {
		return msg
	}
	m, err := jsonrpc.Parse(msg)
	if err != nil {
		return msg
	}
	if m.Kind != jsonrpc.KindBatch {
		return ids.restoreOne(&m)
	}
	out := make([][]byte, len(m.Batch))
	for i := range m.Batch {
		out[i] = ids.restoreOne(&m.Batch[i])
	}
	return joinArray(out)
}

func (ids *idMap) restoreOne(m *jsonrpc.Message) []byte {
	if m.Kind != jsonrpc.KindResponse {
		return m.Raw
	}
	orig, ok := ids.orig[string(m.ID)]
	if !ok {
		return m.Raw
	}
	delete(ids.orig, string(m.ID))
	if b, ok := withID(m.Raw, orig); ok {
		return b
	}
	return m.Raw
}

// pending returns the sidecar ids still unanswered, and forgets them.
func (ids *idMap) pending() []json.RawMessage {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	out := make([]json.RawMessage, 0, len(ids.orig))
	for id := range ids.orig {
		out = append(out, json.RawMessage(id))
	}
	clear(ids.orig)
	return out
}

// withID rewrites the JSON object obj with id as its id member.
func withID(obj []byte, id json.RawMessage) ([]byte, bool) {
	ms, err := jsonrpc.Members(obj)
	if err != nil {
		return nil, false
	}
	b := make([]byte, 0, len(obj)+len(id))
	b = append(b, '{')
	for i, mem := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendName(b, mem.Name)
		b = append(b, ':')
		if mem.Name == "id" {
			b = append(b, id...)
		} else {
			b = append(b, mem.Value...)
		}
	}
	return append(b, '}'), true
}

// appendName appends a member name as a JSON string: as is between quotes
// when it is printable ASCII without '"' or '\\' (every JSON-RPC member),
// else escaped by encoding/json.
func appendName(b []byte, name string) []byte {
	for i := range len(name) {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			q, _ := json.Marshal(name) // a string always marshals
			return append(b, q...)
		}
	}
	return append(append(append(b, '"'), name...), '"')
}

func joinArray(msgs [][]byte) []byte {
	if len(msgs) == 0 {
		return nil
	}
	b := []byte{'['}
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return append(b, ']')
}
