// Package sidecar is `aip-enforcer serve`: a reverse proxy in front of one
// MCP server speaking Streamable HTTP, that authenticates every call by its
// Agent Authentication Token (AAT) and DPoP proof before the policy engine
// (enforcer.Engine) decides it.
//
// Per request, in order: the token (Authorization: Bearer|DPoP, or
// X-AIP-AAT; never the query or the body), the AAT's signature, issuer,
// audience and lifetime, its SPIFFE actor against the agent's registered
// SPIFFE ID, the age of the user's sign-in (max_delegation_age), its
// policy_hash, its binding (cnf x5t#S256 to the
// mTLS peer certificate and act.sub to the peer SVID; cnf jkt to a DPoP
// proof over method, URL, token and body), the proof's jti recorded once
// (nonce.Store), revocations of agent, user, session and jti, the tools
// the token grants, then the Engine (policy, DLP, audit) and the upstream
// server. Responses, JSON or SSE, go through Engine.HandleResponse message
// by message, with the caller's identity (enforcer.WithCaller) in every
// audit record and tools/list showing only the tools the token grants.
// POST /v1/validate runs the same checks for a gateway and answers a
// decision without forwarding; /v1/approvals lets approvers settle `ask`
// calls (approval.Queue), which wait without holding up other requests.
//
// Refusals carry the AIP codes: the token codes (-32008, -32009) for the
// token as a signed, key-bound JWT, the AAT codes (-32015 … -32020) for
// the agent and delegation it carries (delegation.go).
//
// It fails closed: a store that cannot answer (Redis down) is a denial
// with a reason a person can act on, unless revocation.fail_open is set.
// It never logs a token, a proof or a key: only jtis and identifiers.
package sidecar
