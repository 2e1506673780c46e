// Package ed25519v verifies Ed25519 signatures exactly as crypto/ed25519.Verify
// does (RFC 8032 as Go implements it: cofactorless, canonical S, R compared
// byte for byte), with the public key decoded once instead of on every call.
// Decoding a key is a square root, about a tenth of a verification, and the
// enforcer checks thousands of DPoP proofs made with the same agent key.
//
// PublicKey is one decoded key; Cache holds a fixed number of them, so keys
// an attacker chooses cannot grow memory. FuzzVerify holds both equal to
// crypto/ed25519.Verify.
//
// It only answers yes or no, and never logs.
package ed25519v
