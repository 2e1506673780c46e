// Package nonce remembers the jtis of DPoP proofs so that a request is
// accepted once: Store.Record answers ErrReplayed for a jti seen within its
// TTL, and ErrUnavailable when it cannot tell, in which case callers deny
// (fail closed).
//
// Memory serves a single enforcer; Redis is shared by every enforcer
// pointing at the same server (SET NX PX): one round trip per call, the
// only one (revocations come from a local cache the issuer's store keeps
// current by pub/sub; docs/architecture.md says why).
//
// It never logs; callers pass only jtis (or a key made from a thumbprint
// and a jti), never a proof or a token.
package nonce
