package sidecar

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/aip-project/aip/enforcer"
	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/enforcer/policy"
)

// reasonAsk is the metric reason of a call /v1/validate answers "ask".
const reasonAsk = "approval_required"

// Decisions of POST /v1/validate.
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
	DecisionAsk   = "ask"
)

// ValidateRequest is the body of POST /v1/validate: a call a gateway
// wants decided. Method defaults to tools/call; for another method only
// the method check applies, and tool and arguments must be absent.
type ValidateRequest struct {
	Tool      string          `json:"tool,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Method    string          `json:"method,omitempty"`
}

// ValidateResponse is the answer of POST /v1/validate: HTTP 200 with
// decision allow; 403 with deny, or ask (a person must approve the call,
// which the gateway cannot hold: it is refused unless approved through
// another channel); 401 for token problems. Code, message and data are
// those of the JSON-RPC error the sidecar would send.
type ValidateResponse struct {
	Decision string         `json:"decision"`
	Code     codes.Code     `json:"code,omitempty"`
	Message  string         `json:"message,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
}

// serveValidate is POST /v1/validate, for gateways that call out (Envoy
// ext_authz over HTTP): the token is checked as on a call (signature,
// binding, a DPoP proof over this URL and body, nonce, revocations,
// capabilities), then the policy decides, without forwarding anything.
// Every answer is audited.
func (s *Server) serveValidate(w http.ResponseWriter, r *http.Request) {
	s.hashes.observe(s.now())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		d := badRequest("the request body could not be read or is larger than the limit")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			d.status = http.StatusRequestEntityTooLarge
		}
		s.validateDenied(w, r, "", nil, d)
		return
	}
	c, d := s.auth.authenticate(r, body)
	if d != nil {
		s.validateDenied(w, r, "", nil, d)
		return
	}
	id := c.identity()
	vr, d := parseValidate(body)
	isCall := policy.Normalize(vr.Method) == "tools/call"
	if d == nil && isCall {
		d = (&inspection{tools: []string{vr.Tool}}).checkCapabilities(id.Grants)
	}
	if d != nil {
		s.validateDenied(w, r, vr.Method, c, d)
		return
	}
	var params json.RawMessage
	if isCall {
		params, _ = json.Marshal(struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments,omitempty"`
		}{vr.Tool, vr.Arguments}) // a string and valid JSON always marshal
	}
	ctx := enforcer.WithCaller(r.Context(), id)
	status, answer := s.validateAnswer(s.engine.Decide(ctx, vr.Method, params))
	writeValidate(w, status, answer)
}

// parseValidate strictly decodes a ValidateRequest.
func parseValidate(body []byte) (ValidateRequest, *denial) {
	var vr ValidateRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&vr); err != nil || dec.More() {
		return ValidateRequest{}, badRequest(`the body must be a JSON object {"tool": NAME, "arguments": {...}} (and optionally "method")`)
	}
	if vr.Method == "" {
		vr.Method = "tools/call"
	}
	switch {
	case policy.Normalize(vr.Method) == "tools/call" && vr.Tool == "":
		return vr, badRequest("tool is required")
	case policy.Normalize(vr.Method) != "tools/call" && (vr.Tool != "" || vr.Arguments != nil):
		return vr, badRequest("tool and arguments apply to method tools/call only")
	case vr.Arguments != nil && bytes.TrimSpace(vr.Arguments)[0] != '{':
		return vr, badRequest("arguments must be a JSON object")
	}
	return vr, nil
}

// validateAnswer turns the Engine's decision into the answer, and counts it.
func (s *Server) validateAnswer(d policy.Decision) (int, ValidateResponse) {
	switch {
	case d.Action.Forward():
		s.metrics.decision("allow", "")
		return http.StatusOK, ValidateResponse{Decision: DecisionAllow, Reason: d.Reason}
	case d.Action == policy.ActionAsk:
		s.metrics.decision("deny", reasonAsk)
		reason := "a person must approve this call (tool rule action: ask); a gateway cannot hold it for approval"
		if d.Reason != "" {
			reason = d.Reason
		}
		return http.StatusForbidden, ValidateResponse{Decision: DecisionAsk, Message: "Approval required",
			Reason: reason, Data: map[string]any{"tool": d.Tool, "reason": reason}}
	}
	s.metrics.decision("deny", "policy")
	data := d.Data
	if data == nil && d.Reason != "" {
		data = map[string]any{"reason": d.Reason}
	}
	return http.StatusForbidden, ValidateResponse{Decision: DecisionDeny, Code: d.Code, Message: d.Message, Reason: d.Reason, Data: data}
}

// validateDenied answers a refusal decided before the Engine; method is
// the JSON-RPC method asked about, empty when the body was not parsed.
func (s *Server) validateDenied(w http.ResponseWriter, r *http.Request, method string, c *caller, d *denial) {
	s.refused(r, nil, method, c, d)
	d.headers(w.Header(), s.challenge())
	writeValidate(w, d.status, ValidateResponse{Decision: DecisionDeny, Code: d.code, Message: d.code.Message(), Reason: d.reason, Data: d.data()})
}

func writeValidate(w http.ResponseWriter, status int, v ValidateResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
