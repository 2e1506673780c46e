package sidecar

import (
	"encoding/json"
	"net/http"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/internal/jsonrpc"
)

// Reasons are the bounded label values of aip_decisions_total{reason} for
// refusals decided before the Engine.
const (
	reasonTokenRequired = "token_required"
	reasonTokenInvalid  = "token_invalid"
	reasonAATRequired   = "aat_required"
	reasonAATInvalid    = "aat_invalid"
	reasonNotRegistered = "agent_not_registered"
	reasonDelegation    = "delegation_expired"
	reasonAudience      = "audience_mismatch"
	reasonIssuer        = "issuer_untrusted"
	reasonReplay        = "replay_detected"
	reasonRevoked       = "revoked"
	reasonCapability    = "capability_denied"
	reasonUnavailable   = "backend_unavailable"
	reasonBadRequest    = "bad_request"
	reasonUpstream      = "upstream_error"
)

// denial is a refusal decided by the sidecar itself, before the Engine:
// the HTTP status, the AIP code and the reason a person can act on.
type denial struct {
	status     int
	code       codes.Code
	tokenError string // data.token_error of -32009 and -32016, when set
	reason     string // for the client and the audit log; never a secret
	label      string // metric reason
}

func (d *denial) Error() string { return d.reason }

func tokenRequired() *denial {
	return &denial{status: http.StatusUnauthorized, code: codes.TokenRequired, label: reasonTokenRequired,
		reason: "an Agent Authentication Token is required: send it in Authorization (Bearer or DPoP) or X-AIP-AAT"}
}

func tokenInvalid(tokenError, reason string) *denial {
	return &denial{status: http.StatusUnauthorized, code: codes.TokenInvalid, tokenError: tokenError, label: reasonTokenInvalid, reason: reason}
}

// aatRequired answers a caller the mTLS handshake authenticated as an
// agent (its X509-SVID) that sent no AAT: the agent is known, the user
// delegation and capabilities the AAT carries are missing.
func aatRequired() *denial {
	return &denial{status: http.StatusUnauthorized, code: codes.AATRequired, label: reasonAATRequired,
		reason: "this agent is authenticated by its SVID, but an Agent Authentication Token is also required: send it in Authorization (Bearer or DPoP) or X-AIP-AAT"}
}

// aatInvalid refuses a token that verifies as a signed, key-bound token of
// a trusted issuer but whose AAT claims do not fit this server.
func aatInvalid(tokenError, reason string) *denial {
	return &denial{status: http.StatusUnauthorized, code: codes.AATInvalid, tokenError: tokenError, label: reasonAATInvalid, reason: reason}
}

func unavailable(reason string) *denial {
	return &denial{status: http.StatusServiceUnavailable, code: codes.InternalError, label: reasonUnavailable, reason: reason}
}

func badRequest(reason string) *denial {
	return &denial{status: http.StatusBadRequest, code: codes.InvalidRequest, label: reasonBadRequest, reason: reason}
}

// body is the JSON-RPC error answering the request whose id is id (nil
// when the body had none).
func (d *denial) body(id json.RawMessage) []byte {
	b, err := jsonrpc.ErrorResponse(id, d.code, d.code.Message(), d.data())
	if err != nil {
		b, _ = jsonrpc.ErrorResponse(nil, d.code, d.code.Message(), nil)
	}
	return b
}

// data is the error's data: the reason, and the token_error if any.
func (d *denial) data() map[string]any {
	data := map[string]any{"reason": d.reason}
	if d.tokenError != "" {
		data["token_error"] = d.tokenError
	}
	return data
}

// challenge is what a 401's WWW-Authenticate names: the RFC 9728
// metadata URL, and the scheme (DPoP when proofs are required).
type challenge struct {
	metadataURL string
	dpop        bool
}

// write answers the HTTP request with d.
func (d *denial) write(w http.ResponseWriter, id json.RawMessage, ch challenge) {
	d.headers(w.Header(), ch)
	w.WriteHeader(d.status)
	_, _ = w.Write(d.body(id))
}

// headers sets the response headers of d. A 401 names the protected
// resource metadata (RFC 9728) as the MCP authorization spec asks, in a
// DPoP challenge with the accepted algorithms (RFC 9449 §7.1) when proofs
// are required, a Bearer one otherwise.
func (d *denial) headers(h http.Header, ch challenge) {
	if d.status == http.StatusUnauthorized {
		v := `Bearer resource_metadata="` + ch.metadataURL + `"`
		if ch.dpop {
			v = `DPoP algs="EdDSA ES256", resource_metadata="` + ch.metadataURL + `"`
		}
		if d.code != codes.TokenRequired && d.code != codes.AATRequired {
			v += `, error="invalid_token"`
		}
		h.Set("WWW-Authenticate", v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
}
