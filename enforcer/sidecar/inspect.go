package sidecar

import (
	"encoding/json"
	"net/http"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// Headers of the stateless MCP revision (2026-07-28) that repeat what the
// body says, for gateways that route without parsing it.
const (
	headerMcpMethod = "Mcp-Method"
	headerMcpName   = "Mcp-Name"
)

// inspection is what the sidecar reads of a POST body before the Engine.
type inspection struct {
	msg   *jsonrpc.Message // the parsed body; nil when it is not JSON-RPC
	id    json.RawMessage  // the id of a single request, for denials
	tools []string         // tools/call names, in order
	// method and name of a single message, for the Mcp-* headers.
	method, name string
	single       bool
}

// inspect reads the JSON-RPC body. A body that is not JSON-RPC is left to
// the Engine, which answers it with the right protocol error.
func inspect(body []byte) inspection {
	m, err := jsonrpc.Parse(body)
	if err != nil {
		return inspection{}
	}
	in := inspection{msg: &m}
	if m.Kind != jsonrpc.KindBatch {
		in.single, in.id, in.method = true, m.ID, m.Method
		in.name = in.add(&m)
		return in
	}
	for i := range m.Batch {
		in.add(&m.Batch[i])
	}
	return in
}

// add notes a tools/call and returns its tool name.
func (in *inspection) add(m *jsonrpc.Message) string {
	if m.Kind != jsonrpc.KindRequest && m.Kind != jsonrpc.KindNotification {
		return ""
	}
	switch policy.Normalize(m.Method) {
	case "tools/call":
		tc, err := m.ToolCall()
		if err != nil {
			return ""
		}
		in.tools = append(in.tools, tc.Name)
		return tc.Name
	case "resources/read", "prompts/get":
		var p struct {
			Name string `json:"name"`
			URI  string `json:"uri"`
		}
		if json.Unmarshal(m.Params, &p) == nil {
			if p.URI != "" {
				return p.URI
			}
			return p.Name
		}
	}
	return ""
}

// checkHeaders refuses a request whose Mcp-Method or Mcp-Name header
// differs from its body: a gateway routing on the header would otherwise
// see another call than the server.
func (in *inspection) checkHeaders(h http.Header) *denial {
	method, hasMethod := h[http.CanonicalHeaderKey(headerMcpMethod)]
	name, hasName := h[http.CanonicalHeaderKey(headerMcpName)]
	if !hasMethod && !hasName {
		return nil
	}
	if !in.single {
		return badRequest("Mcp-Method and Mcp-Name headers need a body holding one JSON-RPC message")
	}
	if hasMethod && (len(method) != 1 || method[0] != in.method) {
		return badRequest("the Mcp-Method header does not match the body's method")
	}
	if hasName && (len(name) != 1 || name[0] != in.name) {
		return badRequest("the Mcp-Name header does not match the body's tool, resource or prompt name")
	}
	return nil
}

// checkCapabilities refuses a tools/call of a tool the token does not
// grant (granted: the caller's Grants; capabilities_mode intersect: the
// policy then decides the rest).
func (in *inspection) checkCapabilities(granted func(tool string) bool) *denial {
	for _, t := range in.tools {
		if !granted(t) {
			return &denial{status: http.StatusForbidden, code: codes.CapabilityDenied, label: reasonCapability,
				reason: "the token does not grant tool " + quoteTool(t) + ": ask the issuer for a token with this capability"}
		}
	}
	return nil
}

func quoteTool(t string) string {
	if len(t) > 128 {
		t = t[:128]
	}
	b, _ := json.Marshal(t)
	return string(b)
}
