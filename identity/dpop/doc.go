// Package dpop makes and checks RFC 9449 DPoP proofs: compact JWS with
// header typ "dpop+jwt", alg EdDSA or ES256 and the public jwk, and claims
// jti, htm, htu, iat, ath (hash of the access token) and aip_bh.
//
// aip_bh is an aip extension: base64url(SHA-256(body)) of the HTTP request
// body (the JSON-RPC message), so a proof covers one exact call.
//
// Replay detection is the caller's: Verify returns the jti and how long to
// remember it (Claims.ReplayTTL). Nothing here logs a proof or a key.
package dpop
