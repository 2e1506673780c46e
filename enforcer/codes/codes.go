// Package codes holds the JSON-RPC error codes and messages of the AIP
// specification (aip.io/v1alpha1–v1alpha3). They are a wire contract: other
// tools branch on them, so they never change.
package codes

// Code is an AIP JSON-RPC error code.
type Code int

// JSON-RPC 2.0 codes.
const (
	ParseError     Code = -32700
	InvalidRequest Code = -32600
	MethodNotFound Code = -32601
	InvalidParams  Code = -32602
	InternalError  Code = -32603
)

// AIP codes.
const (
	Forbidden              Code = -32001
	RateLimited            Code = -32002
	UserDenied             Code = -32004
	ApprovalTimeout        Code = -32005
	MethodNotAllowed       Code = -32006
	ProtectedPath          Code = -32007
	TokenRequired          Code = -32008
	TokenInvalid           Code = -32009
	PolicySignatureInvalid Code = -32010
	TokenRevoked           Code = -32011
	AudienceMismatch       Code = -32012
	SchemaMismatch         Code = -32013
	DLPRedactionFailed     Code = -32014
	AATRequired            Code = -32015
	AATInvalid             Code = -32016
	CapabilityDenied       Code = -32017
	AgentNotRegistered     Code = -32018
	DelegationExpired      Code = -32019
	IssuerUntrusted        Code = -32020
)

var messages = map[Code]string{
	ParseError:             "Parse error",
	InvalidRequest:         "Invalid Request",
	MethodNotFound:         "Method not found",
	InvalidParams:          "Invalid params",
	InternalError:          "Internal error",
	Forbidden:              "Forbidden",
	RateLimited:            "Rate limit exceeded",
	UserDenied:             "User denied",
	ApprovalTimeout:        "User approval timeout",
	MethodNotAllowed:       "Method not allowed",
	ProtectedPath:          "Access denied: protected path",
	TokenRequired:          "Token required",
	TokenInvalid:           "Token invalid",
	PolicySignatureInvalid: "Policy signature invalid",
	TokenRevoked:           "Token revoked",
	AudienceMismatch:       "Audience mismatch",
	SchemaMismatch:         "Tool schema mismatch",
	DLPRedactionFailed:     "DLP redaction failed",
	AATRequired:            "Agent authentication token required",
	AATInvalid:             "Agent authentication token invalid",
	CapabilityDenied:       "Capability denied",
	AgentNotRegistered:     "Agent not registered",
	DelegationExpired:      "Delegation expired",
	IssuerUntrusted:        "Issuer untrusted",
}

// Message returns the AIP message for c, or "Error" for an unknown code.
func (c Code) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	return "Error"
}

// Token error values carried in data.token_error of a -32009 error (and of
// -32016 for the AAT claims, e.g. policy_hash_mismatch).
//
//nolint:gosec // names of token errors, not credentials
const (
	TokenErrorReplayDetected = "replay_detected"
	TokenErrorExpired        = "token_expired"
	TokenErrorNotYetValid    = "token_not_yet_valid"
	TokenErrorSignature      = "invalid_signature"
	TokenErrorMalformed      = "malformed_token"
	TokenErrorAudience       = "audience_mismatch"
	TokenErrorIssuer         = "issuer_untrusted"
	TokenErrorBinding        = "binding_mismatch"
	TokenErrorPolicyHash     = "policy_hash_mismatch"
	TokenErrorProof          = "invalid_proof"
)
