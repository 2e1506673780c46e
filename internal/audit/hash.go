package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gowebpki/jcs"
)

// ArgsDigest returns the SHA-256, lowercase hex, of the RFC 8785 canonical
// JSON of a tool call's arguments: equal arguments give equal digests
// whatever their key order or spacing. Absent arguments (nil, empty) are
// hashed as {}, as MCP treats them alike.
func ArgsDigest(args json.RawMessage) (string, error) {
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	sum, err := canonicalSHA256(args)
	if err != nil {
		return "", fmt.Errorf("args digest: %w", err)
	}
	return sum, nil
}

// canonicalSHA256 hashes the RFC 8785 form of the JSON value b.
func canonicalSHA256(b []byte) (string, error) {
	// json.Valid first: it bounds nesting depth and rejects what jcs might
	// accept loosely.
	if !json.Valid(b) {
		return "", errors.New("not valid JSON")
	}
	c, err := jcs.Transform(b)
	if err != nil {
		return "", fmt.Errorf("canonicalize: %w", err)
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// sealRecord returns the line for rec (hash set, newline-terminated) and
// rec's hash. rec.Hash is ignored.
func sealRecord(rec Record) (line []byte, hash string, err error) {
	rec.Hash = ""
	body, err := json.Marshal(rec)
	if err != nil {
		return nil, "", fmt.Errorf("marshal record: %w", err)
	}
	canon, err := jcs.Transform(body)
	if err != nil {
		return nil, "", fmt.Errorf("canonicalize record: %w", err)
	}
	sum := sha256.Sum256(canon)
	hash = hex.EncodeToString(sum[:])
	// The canonical body, with the hash appended as its last member.
	line = make([]byte, 0, len(canon)+len(hash)+12)
	line = append(line, canon[:len(canon)-1]...)
	line = append(line, `,"hash":"`...)
	line = append(line, hash...)
	line = append(line, "\"}\n"...)
	return line, hash, nil
}

// chainFields are the members of a line the chain is checked on.
type chainFields struct {
	Seq      uint64
	PrevHash string
	Hash     string
}

// errMalformed marks a line that is not a record at all.
var errMalformed = errors.New("malformed record")

// openLine parses a record line and recomputes its hash. It returns
// errMalformed (wrapped) when the line is not a record and ok=false when it
// is one whose content does not match its hash.
func openLine(line []byte) (f chainFields, ok bool, err error) {
	if !json.Valid(line) {
		return f, false, fmt.Errorf("%w: not valid JSON", errMalformed)
	}
	if _, err := jcs.Transform(line); err != nil { // also refuses duplicate names
		return f, false, fmt.Errorf("%w: %w", errMalformed, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return f, false, fmt.Errorf("%w: not a JSON object", errMalformed)
	}
	if err := json.Unmarshal(m["hash"], &f.Hash); err != nil || len(f.Hash) != len(Genesis) {
		return f, false, fmt.Errorf("%w: missing or bad \"hash\"", errMalformed)
	}
	if err := json.Unmarshal(m["seq"], &f.Seq); err != nil || f.Seq == 0 {
		return f, false, fmt.Errorf("%w: missing or bad \"seq\"", errMalformed)
	}
	if err := json.Unmarshal(m["prev_hash"], &f.PrevHash); err != nil || len(f.PrevHash) != len(Genesis) {
		return f, false, fmt.Errorf("%w: missing or bad \"prev_hash\"", errMalformed)
	}
	delete(m, "hash")
	body, err := json.Marshal(m)
	if err != nil {
		return f, false, fmt.Errorf("%w: %w", errMalformed, err)
	}
	sum, err := canonicalSHA256(body)
	if err != nil {
		return f, false, fmt.Errorf("%w: %w", errMalformed, err)
	}
	return f, sum == f.Hash, nil
}
