package oauth

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 6750, RFC 8707).
const (
	InvalidRequest         = "invalid_request"
	InvalidClient          = "invalid_client"
	InvalidGrant           = "invalid_grant"
	UnauthorizedClient     = "unauthorized_client"
	UnsupportedGrantType   = "unsupported_grant_type"
	InvalidScope           = "invalid_scope"
	InvalidTarget          = "invalid_target"
	InvalidDPoPProof       = "invalid_dpop_proof"
	AccessDenied           = "access_denied"
	InvalidToken           = "invalid_token"
	NotFound               = "not_found"
	ServerError            = "server_error"
	TemporarilyUnavailable = "temporarily_unavailable"
)

// AuthFailed is the one description of every authentication failure.
const AuthFailed = "authentication failed"

// Error is an error the client sees as {"error", "error_description"}.
type Error struct {
	Code        string // one of the codes above
	Description string // public; never holds a token or internal detail
	Status      int    // HTTP status
	// Reason is a bounded, stable label for metrics and audit, e.g.
	// "agent_suspended".
	Reason string
	// Err is the internal cause: logged with the request id, never sent.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %s: %v", e.Code, e.Reason, e.Description, e.Err)
	}
	return fmt.Sprintf("%s (%s): %s", e.Code, e.Reason, e.Description)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with the status that belongs to code.
func New(code, reason, description string, cause error) *Error {
	return &Error{Code: code, Reason: reason, Description: description, Status: statusOf(code), Err: cause}
}

// AuthError is an authentication failure: invalid_grant (a bad subject or
// actor token) or invalid_client (a bad client credential), always with
// the description AuthFailed.
func AuthError(code, reason string, cause error) *Error {
	return New(code, reason, AuthFailed, cause)
}

// Unavailable is a dependency outage (Vault, Redis): 503.
func Unavailable(reason string, cause error) *Error {
	return New(TemporarilyUnavailable, reason, "the issuer cannot serve this request now; retry later", cause)
}

// Internal is an unexpected failure: 500, failing closed.
func Internal(reason string, cause error) *Error {
	return New(ServerError, reason, "internal error", cause)
}

// As returns err's *Error, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal("internal", err)
}

func statusOf(code string) int {
	switch code {
	case InvalidClient, InvalidToken:
		return http.StatusUnauthorized
	case AccessDenied:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case ServerError:
		return http.StatusInternalServerError
	case TemporarilyUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}
