// Package nonce remembers the jtis of one-time tokens so that each is
// accepted once: the DPoP proofs the enforcer checks on every call, and
// those the issuer checks at /v1/token together with the jtis of CI tokens.
// Store.Record answers ErrReplayed for a jti seen within its TTL, and
// ErrUnavailable when it cannot tell, in which case callers deny (fail
// closed).
//
// Memory serves a single process; Redis is shared by every enforcer (or
// issuer replica) pointing at the same server (SET NX PX): one round trip
// per call, the enforcer's only one (revocations come from a local cache
// the issuer's store keeps current by pub/sub; docs/architecture.md says
// why).
//
// It never logs; callers pass only jtis (or a key made from a thumbprint
// and a jti), never a proof or a token.
package nonce
