// Package binding holds the bindings a person makes, through SSO, between
// themselves and an agent: for a while, the agent may act for them with
// a subset of its capabilities, proving only its own identity. Stores are
// a file (the embedded default) and Redis (issuer replicas).
//
// A binding holds ids, scopes and times, never a token; this package never
// logs.
package binding
