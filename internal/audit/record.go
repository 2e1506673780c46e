package audit

import (
	"encoding/json"
	"time"

	"github.com/aip-project/aip/enforcer/codes"
)

// Genesis is the prev_hash of the first record of a chain: 64 zeros, the
// hash no record can have.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Decision is the outcome a record reports.
type Decision string

// Enforcer decisions (AIP).
const (
	Allow        Decision = "ALLOW"
	Block        Decision = "BLOCK"
	AllowMonitor Decision = "ALLOW_MONITOR" // a violation let through in monitor mode
	RateLimited  Decision = "RATE_LIMITED"
)

// Issuer events.
const (
	Issue  Decision = "ISSUE"
	Refuse Decision = "REFUSE"
	Revoke Decision = "REVOKE"
)

// Directions of a proxied message (AIP).
const (
	Upstream   = "upstream"   // client to server: requests and the client's replies
	Downstream = "downstream" // server to client: responses, e.g. DLP redactions
)

// Record is one audit log line. Seq, PrevHash and Hash are set by the
// Writer; Timestamp too, when zero. Empty optional fields are omitted.
type Record struct {
	Seq       uint64    `json:"seq"`
	Timestamp time.Time `json:"timestamp"` // UTC, RFC 3339 with nanoseconds
	Direction string    `json:"direction,omitempty"`
	Decision  Decision  `json:"decision"`

	PolicyMode string     `json:"policy_mode,omitempty"` // enforce or monitor
	Violation  bool       `json:"violation"`
	Method     string     `json:"method,omitempty"`
	Tool       string     `json:"tool,omitempty"`
	FailedRule string     `json:"failed_rule,omitempty"`
	FailedArg  string     `json:"failed_arg,omitempty"`
	PolicyHash string     `json:"policy_hash,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Code       codes.Code `json:"code,omitempty"`

	// ArgsSHA256 is ArgsDigest of the call's arguments.
	ArgsSHA256 string `json:"args_sha256,omitempty"`
	// Args holds argument values only when the policy asks, and only after
	// DLP redaction.
	Args json.RawMessage `json:"args,omitempty"`
	// DLP counts redactions per DLP rule name.
	DLP map[string]int `json:"dlp,omitempty"`

	AgentID   string `json:"agent_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	AATJTI    string `json:"aat_jti,omitempty"`
	SessionID string `json:"session_id,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	RequestID string `json:"request_id,omitempty"`

	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash,omitempty"`
}
