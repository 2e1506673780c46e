package sidecar

import (
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/internal/keypath"
)

// minBearerLen is the shortest approvers bearer secret accepted.
const minBearerLen = 16

// ApprovalsFile lets people settle `ask` rules over HTTP: GET
// /v1/approvals and POST /v1/approvals/{id}, for approvers only.
type ApprovalsFile struct {
	Approvers ApproversFile `yaml:"approvers"`
	// Timeout is how long a call waits for a decision (default 60s).
	Timeout string `yaml:"timeout"`
	// WebhookURL is POSTed each queued approval (JSON, no credential).
	WebhookURL string `yaml:"webhook_url"`
	// ShowArguments lists the calls' argument values, not only their hash.
	ShowArguments bool `yaml:"show_arguments"`
}

// ApproversFile says who may approve: SVIDs by SPIFFE ID (tls.mode
// spiffe), or the holders of a bearer secret read from a file (tls.mode
// plain).
type ApproversFile struct {
	SPIFFEIDs       []string `yaml:"spiffe_ids"`
	BearerTokenFile string   `yaml:"bearer_token_file"`
}

// Approvals is the validated approvals section.
type Approvals struct {
	SPIFFEIDs     []string
	BearerToken   string //nolint:gosec // G117: the approvers' secret, read from bearer_token_file; never logged
	Timeout       time.Duration
	WebhookURL    string
	ShowArguments bool
}

func validateApprovals(ps *keypath.Problems, f *ApprovalsFile, mode string) *Approvals {
	if f == nil {
		return nil
	}
	a := &Approvals{SPIFFEIDs: f.Approvers.SPIFFEIDs, WebhookURL: f.WebhookURL, ShowArguments: f.ShowArguments,
		Timeout: duration(ps, "approvals.timeout", f.Timeout, approval.DefaultTimeout, time.Second, 24*time.Hour)}
	for i, id := range a.SPIFFEIDs {
		if _, err := spiffeid.FromString(id); err != nil {
			ps.Add(keypath.Index("approvals.approvers.spiffe_ids", i), "not a SPIFFE ID: %v", err)
		}
	}
	switch mode {
	case TLSModeSPIFFE:
		if len(a.SPIFFEIDs) == 0 {
			ps.Add("approvals.approvers.spiffe_ids", "at least one approver SPIFFE ID is required with tls.mode spiffe")
		}
		if f.Approvers.BearerTokenFile != "" {
			ps.Add("approvals.approvers.bearer_token_file", "applies to tls.mode plain only; approvers authenticate by SVID")
		}
	case TLSModePlain:
		if len(a.SPIFFEIDs) > 0 {
			ps.Add("approvals.approvers.spiffe_ids", "applies to tls.mode spiffe only; give bearer_token_file")
		}
		a.BearerToken = readBearer(ps, f.Approvers.BearerTokenFile)
	}
	if f.WebhookURL != "" {
		if u, err := url.Parse(f.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps.Add("approvals.webhook_url", "must be an http(s) URL")
		}
	}
	return a
}

func readBearer(ps *keypath.Problems, path string) string {
	const key = "approvals.approvers.bearer_token_file"
	if path == "" {
		ps.Add(key, "is required with tls.mode plain (a file holding the approvers' secret)")
		return ""
	}
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator's configured path
	if err != nil {
		ps.Add(key, "cannot be read: %v", err)
		return ""
	}
	tok := string(trimNewline(b))
	if len(tok) < minBearerLen {
		ps.Add(key, "the secret must be at least %d characters", minBearerLen)
	}
	return tok
}

// openApprovals returns the Gate settling `ask` calls and, when approvals
// are configured, the approvals API (nil otherwise: asks are denied).
func (s *Server) openApprovals() (*approval.Gate, http.Handler) {
	a := s.cfg.Approvals
	if a == nil {
		return approval.NewGate(approval.GateConfig{Logger: s.log}), nil
	}
	qc := approval.QueueConfig{ShowArguments: a.ShowArguments, Now: s.now, Logger: s.log}
	if a.WebhookURL != "" {
		qc.Notify = approval.NewWebhook(a.WebhookURL, nil, s.log)
	}
	q := approval.NewQueue(qc)
	api := approval.NewAPI(approval.APIConfig{Queue: q, Approvers: approval.NewApprovers(a.SPIFFEIDs, a.BearerToken), Logger: s.log})
	return approval.NewGate(approval.GateConfig{Approver: q, Timeout: a.Timeout, Logger: s.log}), api
}
