// Package jsonrpc frames and classifies JSON-RPC 2.0 messages as MCP carries
// them over stdio: one message a line, newline-delimited.
//
// It owns the wire format only: reading bounded lines (Reader), telling
// requests, notifications, responses and batches apart (Parse), reading the
// name and arguments of a tools/call (Message.ToolCall), and building error
// and result responses that carry the request's id verbatim. It decides
// nothing about policy and never logs message contents, which may hold
// secrets.
//
// Parse is on the hot path of every message. It validates once with
// jsonvalid.Valid (json.Valid, faster) and then walks the raw bytes; it never decodes into generic
// maps. Members are matched exactly, as JSON-RPC requires, and a message
// whose members repeat, or differ only in case from a JSON-RPC member
// ("Method", "METHOD"), is refused: a server decoding case-insensitively
// (as Go's encoding/json does) must never see a different method, tool or
// argument than the one the policy was checked against.
package jsonrpc
