// Package revocation holds the issuer's revocations of agents, users,
// sessions and token ids (jti), and answers "is any of these revoked?" for
// the token endpoint and for enforcers on every call.
//
// Stores: Local (one node, in memory with an optional file, with in-process
// notifications) and Redis (shared; every revocation is also published on
// a channel). Cache follows a Redis store through pub/sub and answers
// locally, re-syncing after every reconnect. Both stores pass the
// revocationtest conformance suite.
//
// A backend that cannot be reached yields an error wrapping ErrUnavailable:
// callers must fail closed. Subjects are identifiers, not secrets, but the
// package never logs a token.
package revocation
