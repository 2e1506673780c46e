// Package server is the issuer's HTTP API on Echo v4: POST /v1/token (RFC
// 8693), the keys and RFC 8414 metadata under /.well-known/, the admin-only
// registry (/v1/agents) and revocation (/v1/revocations) APIs, /healthz,
// /readyz and Prometheus /metrics on the server's own registry. The admin
// routes are also served, alone, on a Unix socket (ServeAdmin), where the
// caller is authorized by its uid as the kernel reports it (SO_PEERCRED).
//
// Errors become HTTP responses in exactly one place, the Echo error
// handler: an RFC 6749 {error, error_description} body, details logged
// with the request id. It never logs a token, proof or key.
package server
