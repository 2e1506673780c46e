// Package enforcer is Layer 2 of aip: the policy enforcement point in front
// of an MCP server. Its subpackages hold the AgentPolicy engine, DLP
// redaction, approvals and the proxies (stdio and Streamable HTTP).
//
// It fails closed: anything not allowed, and any error while deciding, is a
// deny with a reason a person can act on. It never logs a token or secret.
package enforcer
