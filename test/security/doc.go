// Package security attacks a running aip stack — the issuer (local key),
// `aip-enforcer serve` in plain-loopback mode and the real
// server-everything behind it — with forged and replayed tokens and
// proofs, revoked identities, tool-name and path tricks, and hostile
// bodies. Each attack must be refused with the right HTTP status and AIP
// code, must never reach the MCP server, and must leave the sidecar's
// audit log verifying, with one record per refused call.
//
// The tests only drive the stack from outside, as an attacker would (they
// hold the issuer's signer only to mint tokens the issuer could have
// minted); they never change what the enforcer checks.
package security
