// Package identity is Layer 1 of aip: who an agent is. Its subpackages hold
// SPIFFE ID conventions for agents, native agent keys and DPoP proofs
// (RFC 9449), and the Agent Authentication Token (AAT) that bridges the
// identity layer to enforcement.
//
// Nothing here ever logs a token or a private key; callers log a jti or a
// key thumbprint.
package identity
