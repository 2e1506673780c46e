package audit

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// SyncPolicy says when a file-backed Writer calls fsync.
type SyncPolicy int

const (
	// SyncNone (the default) leaves flushing to the operating system. Every
	// record still goes out whole in one write call (queued and concurrent
	// ones together), so a crash of the process leaves at most one partial
	// line; a crash of the machine may lose the records the OS had not yet
	// written.
	SyncNone SyncPolicy = iota
	// SyncEveryRecord fsyncs after each write: nothing acknowledged is
	// lost, at the cost of a disk flush per decision (per group of
	// concurrent ones).
	SyncEveryRecord
)

// ErrClosed is returned by Append and Queue after Close.
var ErrClosed = errors.New("audit log closed")

// Config configures a Writer. The zero value is usable.
type Config struct {
	// Sync is the fsync policy of a file-backed Writer; default SyncNone.
	Sync SyncPolicy
	// Now is the clock for record timestamps; default time.Now.
	Now func() time.Time
	// Logger receives recovery notes (never record contents); default
	// discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Writer appends chained records. It is safe for concurrent use; records
// are chained in the order Append and Queue calls take the lock.
//
// Concurrent Appends share write calls (group commit): a caller seals its
// record under the lock and, when no write is in progress, writes every
// record sealed so far in one call, with the lock released so that records
// sealed meanwhile wait for, and make up, the next write. Records are
// written in chain order, each once and whole. There is no background
// goroutine: an Append alone is one write, as before.
type Writer struct {
	mu      sync.Mutex
	wrote   sync.Cond // on mu; broadcast when a write ends
	cfg     Config
	out     io.Writer
	file    *os.File // set when the Writer owns a file
	seq     uint64   // of the last record sealed (written, being written or held)
	prev    string   // its hash
	done    uint64   // seq of the last record written (and synced, with SyncEveryRecord)
	writing bool     // a write is in progress, outside the lock
	err     error    // sticky: after a failed write the chain's end is unknown
	closed  bool
	buf     []byte // lines sealed but not yet being written, in chain order; storage reused
	spare   []byte // storage for buf while the previous lines are being written
}

// maxBuf bounds the line buffer a Writer keeps between records.
const maxBuf = 64 << 10

// NewWriter returns a Writer that starts a new chain (at Genesis) on out.
func NewWriter(out io.Writer, cfg Config) *Writer {
	w := &Writer{cfg: cfg.withDefaults(), out: out, prev: Genesis}
	w.wrote.L = &w.mu
	return w
}

// Append fills in rec's seq, prev_hash, hash and (when zero) timestamp,
// writes it as one line (after any queued records, in the same write call
// unless a write in progress already holds them; with records of
// concurrent Appends) and returns it once written. When that write fails,
// every Append whose record was in it fails, and so does every later
// Append: the caller must treat that as a failure to audit (the enforcer
// denies), not retry into a possibly broken line.
func (w *Writer) Append(rec Record) (Record, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rec, err := w.sealLocked(rec)
	if err != nil {
		return Record{}, err
	}
	if err := w.commitLocked(rec.Seq); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// Queue is Append without the write: rec is chained and held until the
// next Flush or Append, which write every held record, in chain order, in
// one write call. A caller that must not act before its record is written
// (the enforcer forwarding a message) calls Flush first, and does not act
// when Flush fails. An error from Queue is one Append would have returned.
func (w *Writer) Queue(rec Record) (Record, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sealLocked(rec)
}

// Flush writes the records Queue holds, in one write call (none: nothing
// to do), or waits for a write in progress that holds them. After a failed
// write every later call fails, as for Append.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.pendingLocked() {
		return w.err
	}
	return w.commitLocked(w.seq)
}

// sealLocked chains rec after the last record sealed and appends its line
// to the held lines.
func (w *Writer) sealLocked(rec Record) (Record, error) {
	switch {
	case w.closed:
		return Record{}, ErrClosed
	case w.err != nil:
		return Record{}, w.err
	}
	if rec.Timestamp.IsZero() {
		rec.Timestamp = w.cfg.Now()
	}
	rec.Timestamp = rec.Timestamp.UTC()
	rec.Seq, rec.PrevHash = w.seq+1, w.prev
	held, hash, err := sealRecord(w.buf, &rec)
	if err != nil {
		return Record{}, fmt.Errorf("append audit record: %w", err)
	}
	w.buf = held
	w.seq, w.prev, rec.Hash = rec.Seq, hash, hash
	return rec, nil
}

// pendingLocked reports whether records are sealed but not yet written:
// held, or in a write in progress.
func (w *Writer) pendingLocked() bool {
	return w.writing || len(w.buf) > 0
}

// commitLocked returns once the record seq, and so every record before it,
// is written: by a write in progress (the caller waits for it), or by one
// the caller makes when none is (the leader). A record sealed during a
// write waits for it, then for the next one, which the first of those
// callers to run makes. It returns the sticky error when a write holding
// seq failed.
func (w *Writer) commitLocked(seq uint64) error {
	for w.done < seq {
		switch {
		case w.err != nil:
			return w.err
		case w.writing:
			w.wrote.Wait()
		default:
			w.writeLocked()
		}
	}
	return nil
}

// writeLocked writes the held lines in one write call, releasing w.mu for
// the write (and fsync), and wakes the callers waiting for it. Once a write
// fails the chain's end in the file is unknown, so the error sticks and
// the lines held since are dropped: their callers get the error too.
func (w *Writer) writeLocked() {
	out, upTo := w.buf, w.seq
	w.buf, w.spare = w.spare[:0], nil
	w.writing = true
	w.mu.Unlock()
	err := w.write(out) // out is this caller's until it is spare again
	w.mu.Lock()
	w.writing = false
	if cap(out) <= maxBuf {
		w.spare = out[:0] // io.Writer does not keep it
	}
	if err != nil {
		w.err = err
		w.buf = w.buf[:0]
	} else {
		w.done = upTo
	}
	w.wrote.Broadcast()
}

// write writes p, and fsyncs with SyncEveryRecord. It runs without w.mu:
// it reads only what is set before the Writer is used.
func (w *Writer) write(p []byte) error {
	if _, err := w.out.Write(p); err != nil {
		return fmt.Errorf("append audit record: write: %w", err)
	}
	if w.file != nil && w.cfg.Sync == SyncEveryRecord {
		if err := w.file.Sync(); err != nil {
			return fmt.Errorf("append audit record: sync: %w", err)
		}
	}
	return nil
}

// Head returns the seq and hash of the last record sealed: written, being
// written or queued (0 and Genesis for an empty chain). Keeping it
// elsewhere lets Verify's result be checked against records cut from the
// end of the file.
func (w *Writer) Head() (seq uint64, hash string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq, w.prev
}

// Sync writes the queued records (waiting for a write in progress), and
// flushes a file-backed Writer to disk.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pendingLocked() {
		if err := w.commitLocked(w.seq); err != nil {
			return err
		}
	}
	if w.file == nil || w.closed {
		return nil
	}
	if err := w.file.Sync(); err != nil {
		return fmt.Errorf("sync audit log: %w", err)
	}
	return nil
}

// Close writes the records sealed before it (waiting for a write in
// progress), then syncs and closes the file a Writer opened; it does not
// close an io.Writer given to NewWriter. Append and Queue then return
// ErrClosed. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true // nothing is sealed from here on
	var ferr error
	if w.pendingLocked() {
		ferr = w.commitLocked(w.seq) // the held records, and those of waiting Appends
	}
	if w.file == nil {
		return ferr
	}
	serr := w.file.Sync()
	cerr := w.file.Close()
	if err := errors.Join(ferr, serr, cerr); err != nil {
		return fmt.Errorf("close audit log: %w", err)
	}
	return nil
}
