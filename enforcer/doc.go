// Package enforcer is Layer 2 of aip: the policy enforcement point in front
// of an MCP server. Its subpackages hold the AgentPolicy engine (policy),
// DLP redaction (dlp), approvals (approval) and the proxies (stdio, and
// later Streamable HTTP).
//
// Engine is the transport-independent core the proxies share: HandleRequest
// decides each client message (forward, possibly rewritten, or a JSON-RPC
// error; `ask` calls come back pending and are settled by Verdict.Wait),
// and HandleResponse filters tools/list and redacts secrets in what the
// server sends back. Every decision is one audit record. Reloader swaps
// the policy when its file changes.
//
// It fails closed: anything not allowed, and any error while deciding, is a
// deny with a reason a person can act on. It never logs a token or secret,
// and strips the stdio token (params._aip_aat) before forwarding.
package enforcer
