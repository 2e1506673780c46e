// Package ed25519v verifies Ed25519 signatures exactly as crypto/ed25519.Verify
// does (RFC 8032 as Go implements it: cofactorless, canonical S, R compared
// byte for byte), with the public key decoded once instead of on every call.
// Decoding a key is a square root, about a tenth of a verification, and the
// enforcer checks thousands of DPoP proofs made with the same agent key.
//
// PublicKey is one decoded key; Cache holds a fixed number of them, so keys
// an attacker chooses cannot grow memory.
//
// Through a Cache, a key that verified a signature gets, on its next
// verification, a table of multiples of -A (30 KiB, about 110 µs to build,
// table.go): R' = [S]B + [k](-A) is then summed from it and the base
// point's table with about 128 mixed additions and 4 doublings instead of
// 253 doublings, half the time (point.go holds the curve formulas, on
// filippo.io/edwards25519/field). A Cache keeps at most 64 tables, evicted
// by a clock, and builds are paid for by verifications made without one,
// so keys evicting each other cannot spend more than a small part of the
// time rebuilding (tables.go). A PublicKey used alone never builds one.
//
// FuzzVerify holds every path equal to crypto/ed25519.Verify, and
// TestDoubleMul the table arithmetic to the library's.
//
// It only answers yes or no, and never logs.
package ed25519v
