// Package audit is the tamper-evident audit log shared by the enforcer and
// the issuer: JSONL, one Record a decision, hash-chained.
//
// Each record carries seq (1, 2, 3, ...), prev_hash (the previous record's
// hash; Genesis for the first) and hash: the SHA-256, lowercase hex, of the
// RFC 8785 canonical JSON of the record without its hash member. Editing,
// inserting, deleting or reordering a record breaks the chain, and Verify
// names the first place it breaks. A chain can be rewritten in full by
// whoever can write the file, and records cut from its end leave no trace
// in it: keep Report.LastHash (or Writer.Head) somewhere else to detect
// both.
//
// A newline commits a record: the Writer writes each record, newline
// included, in one write call (records of concurrent Appends share it), so
// a crash leaves at most one partial last line, which is not part of the
// chain. Open cuts it off (see Open).
//
// The package never writes a token, key or secret: records hold argument
// hashes (ArgsDigest) and, only when a policy asks, arguments the caller has
// already passed through DLP.
package audit
