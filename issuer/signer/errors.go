package signer

import "errors"

// Errors callers branch on with errors.Is. ErrUnavailable is in signer.go.
var (
	// ErrUnknownKey means a kid this Signer cannot sign with (not its
	// current key, or a version no longer published).
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrInsecureKeyFile means a key file (or the retired keys file) can be
	// read or written by group or others; it is refused, never loaded.
	ErrInsecureKeyFile = errors.New("key file accessible by group or others")
	// ErrKeyPolicy means a backend key breaks aip's rules: exportable,
	// plaintext backup allowed, or of a type other than ed25519 or
	// ecdsa-p256.
	ErrKeyPolicy = errors.New("signing key violates key policy")
)
