// Package issuer is the aip token issuer: an Echo HTTP server that keeps the
// agent registry, exchanges an agent's identity plus a user's token for a
// short-lived AAT (RFC 8693), publishes its keys (JWKS, RFC 8414 metadata)
// and its revocations.
//
// Signing keys live behind a Signer (Vault transit in production, a local
// key file on a single machine). The issuer never logs a token or key.
package issuer
