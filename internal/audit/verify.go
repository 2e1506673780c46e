package audit

import (
	"errors"
	"fmt"
	"io"
)

// ErrTampered is what a Finding unwraps to.
var ErrTampered = errors.New("audit chain broken")

// FindingKind names how the chain breaks.
type FindingKind string

// Kinds of findings.
const (
	Malformed FindingKind = "malformed" // the line is not a record
	Altered   FindingKind = "altered"   // the record does not match its hash, or does not link to the one before
	Deleted   FindingKind = "deleted"   // records are missing before this one
	Inserted  FindingKind = "inserted"  // this record does not belong here: the chain resumes after it
	Reordered FindingKind = "reordered" // records are out of order
)

// Finding is the first place a log's chain breaks.
type Finding struct {
	Kind   FindingKind
	Line   int    // 1-based line number in the file
	Seq    uint64 // the seq the line claims; 0 when unreadable
	Detail string
}

// Error returns the finding as one line: where, which kind, why.
func (f *Finding) Error() string {
	if f.Seq == 0 {
		return fmt.Sprintf("line %d: %s: %s", f.Line, f.Kind, f.Detail)
	}
	return fmt.Sprintf("line %d (seq %d): %s: %s", f.Line, f.Seq, f.Kind, f.Detail)
}

// Unwrap returns ErrTampered.
func (f *Finding) Unwrap() error { return ErrTampered }

// Report is the result of Verify.
type Report struct {
	// Records is the number of records verified, in order, from the start.
	Records int
	// LastSeq and LastHash identify the last verified record (0 and Genesis
	// when none). Compare them with a copy kept elsewhere to detect records
	// cut from the end.
	LastSeq  uint64
	LastHash string
	// IncompleteTail reports a last line without a newline: a record cut
	// short (usually by a crash while writing). It is not verified;
	// TailBytes is its length.
	IncompleteTail bool
	TailBytes      int
	// Finding is the first break in the chain; nil when the log verifies.
	Finding *Finding
}

// Verify reads a log and checks its chain from the first line. It returns
// the report and, when the chain breaks, the Finding as error (wrapping
// ErrTampered); other errors are read failures. An incomplete last line
// alone is not an error: the report says so.
func Verify(r io.Reader) (Report, error) {
	v := verifier{lines: newLineReader(r), rep: Report{LastHash: Genesis}}
	if err := v.run(); err != nil {
		return v.rep, err
	}
	if v.rep.Finding != nil {
		return v.rep, v.rep.Finding
	}
	return v.rep, nil
}

type verifier struct {
	lines *lineReader
	rep   Report
}

func (v *verifier) run() error {
	for {
		l, err := v.lines.next()
		if err != nil || l == nil {
			return err
		}
		if !l.complete {
			v.rep.IncompleteTail, v.rep.TailBytes = true, len(l.text)
			return nil
		}
		if l.tooLong {
			return v.find(Malformed, l.n, 0, fmt.Sprintf("line over %d bytes", maxLine))
		}
		f, ok, err := openLine(l.text)
		switch {
		case err != nil:
			return v.find(Malformed, l.n, 0, err.Error())
		case !ok:
			return v.find(Altered, l.n, f.Seq, "content does not match its hash")
		}
		if f.Seq == v.rep.LastSeq+1 && f.PrevHash == v.rep.LastHash {
			v.rep.Records++
			v.rep.LastSeq, v.rep.LastHash = f.Seq, f.Hash
			continue
		}
		return v.classify(l.n, f)
	}
}

// classify names a break at line n, looking at the following line.
func (v *verifier) classify(n int, f chainFields) error {
	want := v.rep.LastSeq + 1
	switch {
	case f.Seq == want:
		return v.find(Altered, n, f.Seq, fmt.Sprintf("prev_hash does not match the hash of seq %d: one of the two records was replaced", v.rep.LastSeq))
	case f.Seq == v.rep.LastSeq && f.Hash == v.rep.LastHash:
		return v.find(Inserted, n, f.Seq, "a copy of the previous record")
	}
	next, err := v.nextChain()
	if err != nil {
		return err
	}
	resumes := next != nil && next.Seq == want && next.PrevHash == v.rep.LastHash
	switch {
	case f.Seq > want && resumes:
		return v.find(Reordered, n, f.Seq, fmt.Sprintf("expected seq %d, which comes next", want))
	case f.Seq > want:
		return v.find(Deleted, n, f.Seq, fmt.Sprintf("%d record(s) missing (seq %d to %d)", f.Seq-want, want, f.Seq-1))
	case resumes:
		return v.find(Inserted, n, f.Seq, fmt.Sprintf("seq %d does not belong after seq %d; the chain resumes on the next line", f.Seq, v.rep.LastSeq))
	}
	return v.find(Reordered, n, f.Seq, fmt.Sprintf("seq %d after seq %d", f.Seq, v.rep.LastSeq))
}

// nextChain returns the chain fields of the next line when it is a complete,
// intact record, else nil.
func (v *verifier) nextChain() (*chainFields, error) {
	l, err := v.lines.peek()
	if err != nil || l == nil || !l.complete || l.tooLong {
		return nil, err
	}
	f, ok, err := openLine(l.text)
	if err != nil || !ok {
		return nil, nil //nolint:nilerr // a broken next line simply does not resume the chain
	}
	return &f, nil
}

func (v *verifier) find(kind FindingKind, line int, seq uint64, detail string) error {
	v.rep.Finding = &Finding{Kind: kind, Line: line, Seq: seq, Detail: detail}
	return nil
}
