// Package oauth holds the issuer's client-facing errors: RFC 6749 / RFC 8693
// error codes with their HTTP status, a public description, a bounded
// reason for metrics and audit, and the internal cause that is only ever
// logged. Authentication failures share one description so the API gives
// an attacker no hints.
//
// It never puts a token or key in a description.
package oauth
