// Package aat mints and verifies the Agent Authentication Token: a compact
// JWS (header typ "aat+jwt", alg EdDSA or ES256, kid) in which an issuer
// states that an agent acts for a user, with which capabilities, for which
// audience, bound to which key (cnf).
//
// Verification accepts only EdDSA and ES256, only kids that are plain
// identifiers, only trusted issuers, and reports each refusal as a sentinel
// error that TokenError maps to an AIP token_error value.
//
// It never logs a token; callers log the jti.
package aat
