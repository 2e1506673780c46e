package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/gowebpki/jcs"

	"github.com/aip-project/aip/internal/jsonvalid"
)

// ArgsDigest returns the SHA-256, lowercase hex, of the RFC 8785 canonical
// JSON of a tool call's arguments: equal arguments give equal digests
// whatever their key order or spacing. Absent arguments (nil, empty) are
// hashed as {}, as MCP treats them alike.
func ArgsDigest(args json.RawMessage) (string, error) {
	if len(args) > 0 && !jsonvalid.Valid(args) {
		return "", errors.New("args digest: not valid JSON")
	}
	return ArgsDigestOfValid(args)
}

// ArgsDigestOfValid is ArgsDigest for arguments already known to be valid
// JSON (json.Valid accepts them: e.g. a member of a message jsonrpc.Parse
// accepted), without checking them again.
func ArgsDigestOfValid(args json.RawMessage) (string, error) {
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	sum, err := canonicalSHA256(args, true)
	if err != nil {
		return "", fmt.Errorf("args digest: %w", err)
	}
	return sum, nil
}

// jcsBuffers holds the buffers canonicalSHA256 builds canonical forms in.
var jcsBuffers = sync.Pool{New: func() any { return new([]byte) }}

// canonicalSHA256 hashes the RFC 8785 form of the JSON value b. With fast,
// b is valid JSON already, and appendJCS makes the form when it can;
// Verify passes false, so a record's hash is always recomputed by
// encoding/json and the JCS library alone.
func canonicalSHA256(b []byte, fast bool) (string, error) {
	// json.Valid first: it bounds nesting depth and rejects what jcs might
	// accept loosely.
	if !fast && !json.Valid(b) {
		return "", errors.New("not valid JSON")
	}
	c, ok := []byte(nil), false
	if fast {
		buf := jcsBuffers.Get().(*[]byte)
		defer jcsBuffers.Put(buf)
		c, ok = appendJCS((*buf)[:0], b)
		if cap(c) <= maxBuf {
			*buf = c
		}
	}
	if !ok {
		var err error
		if c, err = jcs.Transform(b); err != nil {
			return "", fmt.Errorf("canonicalize: %w", err)
		}
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// sealRecord appends to buf the line for rec (hash set, newline-
// terminated) and returns it with rec's hash. rec.Hash is ignored. The
// hash input is the canonical body from appendCanonical.
func sealRecord(buf []byte, rec *Record) (line []byte, hash string, err error) {
	line, err = appendCanonical(buf, rec)
	if err != nil {
		return nil, "", fmt.Errorf("canonicalize record: %w", err)
	}
	sum := sha256.Sum256(line[len(buf):])
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	// The canonical body, with the hash appended as its last member.
	line = line[:len(line)-1]
	line = append(line, `,"hash":"`...)
	line = append(line, hexSum[:]...)
	line = append(line, "\"}\n"...)
	return line, string(hexSum[:]), nil
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
	sum, err := canonicalSHA256(body, false)
	if err != nil {
		return f, false, fmt.Errorf("%w: %w", errMalformed, err)
	}
	return f, sum == f.Hash, nil
}
