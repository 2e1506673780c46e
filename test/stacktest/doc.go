// Package stacktest assembles the aip stack the fault, integration and
// security tests run against: a real issuer and `aip-enforcer serve`
// sidecars in-process on loopback (configured as their YAML configures
// them), in front of the real components of test/env, with what an agent
// needs to reach them: Workload API sources and mTLS clients from SPIRE
// SVIDs, token exchanges, AAT verification against the issuer's JWKS,
// transports that record or redirect requests, and the audit log read
// back. It is a test helper; no product code imports it, and it never
// logs a token or a key.
package stacktest
