// Package svid opens X509-SVID sources on the SPIRE Workload API for the
// servers (issuer, enforcer) that serve with their own SVID. It never
// logs or exposes a private key.
package svid
