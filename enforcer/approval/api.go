package approval

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
)

// maxDecisionBody bounds the body of POST /v1/approvals/{id}.
const maxDecisionBody = 4 << 10

// Authorizer names the approver who sent r, or refuses r.
type Authorizer interface {
	Authorize(r *http.Request) (approver string, err error)
}

// APIConfig configures the approvals API.
type APIConfig struct {
	// Queue holds the pending approvals. Required.
	Queue *Queue
	// Approvers says who may list and settle approvals. Required.
	Approvers Authorizer
	// Logger receives settled approvals and refused requests (never a
	// credential). Nil discards.
	Logger *slog.Logger
}

// Decision is the body of POST /v1/approvals/{id}.
type Decision struct {
	Decision string `json:"decision"` // approve or deny
}

// Decisions of POST /v1/approvals/{id}.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// List is the body of GET /v1/approvals.
type List struct {
	Approvals []Pending `json:"approvals"`
}

// NewAPI returns the approvals API: GET /v1/approvals lists the pending
// approvals, POST /v1/approvals/{id} with {"decision": "approve"|"deny"}
// settles one. Only approvers may call either; anyone else gets the same
// 401, whatever was wrong. Errors are {error, error_description}.
func NewAPI(cfg APIConfig) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{cfg: cfg, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/approvals", a.authorized(a.list))
	mux.HandleFunc("POST /v1/approvals/{id}", a.authorized(a.settle))
	return mux
}

type api struct {
	cfg APIConfig
	log *slog.Logger
}

func (a *api) authorized(h func(w http.ResponseWriter, r *http.Request, approver string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, err := a.cfg.Approvers.Authorize(r)
		if err != nil {
			a.log.Info("approvals API request refused", "path", r.URL.Path, "err", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="aip-approvals"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "only approvers may list or settle approvals")
			return
		}
		h(w, r, who)
	}
}

func (a *api) list(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, List{Approvals: a.cfg.Queue.List()})
}

func (a *api) settle(w http.ResponseWriter, r *http.Request, approver string) {
	var d Decision
	dec := json.NewDecoder(io.LimitReader(r.Body, maxDecisionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil || (d.Decision != DecisionApprove && d.Decision != DecisionDeny) {
		writeError(w, http.StatusBadRequest, "invalid_request", `the body must be {"decision": "approve"} or {"decision": "deny"}`)
		return
	}
	p, err := a.cfg.Queue.Settle(r.PathValue("id"), d.Decision == DecisionApprove)
	if errors.Is(err, ErrUnknownApproval) {
		writeError(w, http.StatusNotFound, "not_found", "no pending approval with this id: it was settled, expired or abandoned by its caller")
		return
	}
	a.log.Info("approval settled", "approval_id", p.ID, "decision", d.Decision, "approver", approver,
		"tool", p.Tool, "args_sha256", p.ArgsSHA256, "agent_id", p.AgentID)
	writeJSON(w, http.StatusOK, struct {
		ID       string `json:"id"`
		Decision string `json:"decision"`
	}{p.ID, d.Decision})
}

func writeError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
