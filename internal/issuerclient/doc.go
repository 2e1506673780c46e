// Package issuerclient is an HTTP client for the aip issuer's API: the
// agent registry (/v1/agents), token exchange (/v1/token), revocations
// (/v1/revocations) and the JWKS. Admin calls go over HTTP(S) with a
// bearer ID token or an mTLS certificate, or over the issuer's admin Unix
// socket, where the caller's uid is its credential.
//
// It sends credentials (an admin's bearer ID token, a subject or actor
// token, a DPoP proof) only in the request they belong to, and never logs
// or formats them into errors: an error carries the issuer's OAuth error
// code and description, nothing the caller sent.
package issuerclient
