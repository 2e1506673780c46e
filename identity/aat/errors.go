package aat

import (
	"errors"

	"github.com/aip-project/aip/enforcer/codes"
)

// Refusals of a token. Callers branch with errors.Is; TokenError gives the
// AIP token_error value.
var (
	ErrMalformed       = errors.New("malformed token")
	ErrSignature       = errors.New("invalid token signature")
	ErrIssuerUntrusted = errors.New("token issuer not trusted")
	ErrAudience        = errors.New("token audience mismatch")
	ErrExpired         = errors.New("token expired")
	ErrNotYetValid     = errors.New("token not yet valid")
	ErrBinding         = errors.New("token binding mismatch")
)

// Errors of key sources.
var (
	// ErrUnknownKey means the issuer publishes no key with the token's kid.
	// Verify wraps it together with ErrSignature.
	ErrUnknownKey = errors.New("unknown key id")
	// ErrKeysUnavailable means an issuer's keys could not be fetched. It is
	// not a property of the token: callers fail closed with an internal
	// error, not a token error.
	ErrKeysUnavailable = errors.New("issuer keys unavailable")
)

// TokenError returns the AIP token_error value for a refusal from this
// package, or "" when err is not a token refusal.
func TokenError(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrExpired):
		return codes.TokenErrorExpired
	case errors.Is(err, ErrNotYetValid):
		return codes.TokenErrorNotYetValid
	case errors.Is(err, ErrSignature):
		return codes.TokenErrorSignature
	case errors.Is(err, ErrMalformed):
		return codes.TokenErrorMalformed
	case errors.Is(err, ErrAudience):
		return codes.TokenErrorAudience
	case errors.Is(err, ErrIssuerUntrusted):
		return codes.TokenErrorIssuer
	case errors.Is(err, ErrBinding):
		return codes.TokenErrorBinding
	default:
		return ""
	}
}
