// Package dlp finds and redacts secrets in MCP traffic (data loss
// prevention).
//
// A policy's dlp section compiles (Compile) into a Scanner. RedactResponse
// replaces every match of a response-scoped pattern, in every string of a
// tools/call result (content[].text, structuredContent, nested values,
// object names) with [REDACTED:<name>] and leaves the JSON otherwise as it
// was; a result without a match comes back byte-identical. ScanRequest and
// RedactRequest do the same for request-scoped patterns; applying
// block|redact|warn is the caller's job. With DetectEncoding, base64 (std
// and URL alphabets) and hex runs inside strings are decoded and scanned
// too, and a run hiding a secret is redacted whole.
//
// The package never logs, returns or stores a matched value: findings are
// pattern names and counts. An error from it means the caller must fail
// closed (codes.DLPRedactionFailed).
package dlp
