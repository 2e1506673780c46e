package dlp

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aip-project/aip/internal/jsonvalid"
)

// ErrInvalidJSON means the value to scan is not valid JSON; the caller
// fails closed.
var ErrInvalidJSON = errors.New("dlp: value is not valid JSON")

// Scanner applies compiled patterns. It is immutable and safe for
// concurrent use. A nil *Scanner scans nothing, like a disabled one.
type Scanner struct {
	enabled        bool
	scanRequests   bool
	onRequest      Action
	detectEncoding bool
	request        ruleSet
	response       ruleSet
}

// Enabled reports whether DLP is on.
func (s *Scanner) Enabled() bool { return s != nil && s.enabled }

// ScansRequests reports whether requests are scanned (DLP on and
// scan_requests set).
func (s *Scanner) ScansRequests() bool { return s.Enabled() && s.scanRequests }

// OnRequestMatch returns the action the caller takes on a request match.
func (s *Scanner) OnRequestMatch() Action {
	if s == nil {
		return ActionBlock
	}
	return s.onRequest
}

// RedactResponse redacts response-scoped matches in every string of result
// (a tools/call result, or any JSON value). counts maps pattern names to
// the number of redactions; it is nil, and redacted is result itself,
// when nothing matched. An error means the result must not be forwarded.
func (s *Scanner) RedactResponse(result json.RawMessage) (redacted json.RawMessage, counts map[string]int, err error) {
	if !s.Enabled() {
		return result, nil, nil
	}
	return s.redact(&s.response, result)
}

// ScanRequest returns the number of request-scoped matches per pattern
// name in params (nil when none, or when requests are not scanned).
func (s *Scanner) ScanRequest(params json.RawMessage) (map[string]int, error) {
	if !s.ScansRequests() {
		return nil, nil
	}
	_, counts, err := s.redact(&s.request, params)
	return counts, err
}

// RedactRequest is RedactResponse for request-scoped patterns, for
// on_request_match: redact. It returns params itself when requests are not
// scanned.
func (s *Scanner) RedactRequest(params json.RawMessage) (json.RawMessage, map[string]int, error) {
	if !s.ScansRequests() {
		return params, nil, nil
	}
	return s.redact(&s.request, params)
}

func (s *Scanner) redact(rs *ruleSet, v json.RawMessage) (json.RawMessage, map[string]int, error) {
	if len(rs.rules) == 0 {
		return v, nil, nil
	}
	if !jsonvalid.Valid(v) {
		return nil, nil, ErrInvalidJSON
	}
	out, counts, err := rs.redactJSON(v, s.detectEncoding)
	if err != nil {
		return nil, nil, fmt.Errorf("dlp: %w", err)
	}
	return out, counts, nil
}
