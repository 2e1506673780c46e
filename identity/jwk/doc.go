// Package jwk holds what aip needs of JSON Web Keys and JWS algorithms: the
// algorithm allowlist (EdDSA with Ed25519, ES256 with P-256), RFC 7638 key
// thumbprints (the kid of local keys, the jkt of DPoP keys, the
// public_key_thumbprint of agents), constant-time thumbprint comparison, and
// raw JWS signatures made or checked with a key in hand. Key is a public
// verification key (kid, algorithm, key) as a JWKS publishes it; SignJWS
// makes a compact JWS with a Signer, a key backend that never gives its
// private key out (the issuer's signers are ones). Verify keeps the
// Ed25519 keys it decoded last in a fixed-size cache (internal/ed25519v), so
// an agent's DPoP key is decoded once, not on every proof; the answers are
// those of crypto/ed25519.
//
// It never logs, and never returns private key material in a JWK.
package jwk
