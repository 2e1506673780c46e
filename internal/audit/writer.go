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
	// record still goes out whole in one write call (queued ones together), so a crash of the process
	// leaves at most one partial line; a crash of the machine may lose the
	// records the OS had not yet written.
	SyncNone SyncPolicy = iota
	// SyncEveryRecord fsyncs after each record: nothing acknowledged is
	// lost, at the cost of a disk flush per decision.
	SyncEveryRecord
)

// ErrClosed is returned by Append after Close.
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
type Writer struct {
	mu     sync.Mutex
	cfg    Config
	out    io.Writer
	file   *os.File // set when the Writer owns a file
	seq    uint64   // of the last record sealed (written or queued)
	prev   string   // its hash
	err    error    // sticky: after a failed write the chain's end is unknown
	closed bool
	buf    []byte // lines sealed but not yet written (Queue), in chain order; storage reused
}

// maxBuf bounds the line buffer a Writer keeps between records.
const maxBuf = 64 << 10

// NewWriter returns a Writer that starts a new chain (at Genesis) on out.
func NewWriter(out io.Writer, cfg Config) *Writer {
	return &Writer{cfg: cfg.withDefaults(), out: out, prev: Genesis}
}

// Append fills in rec's seq, prev_hash, hash and (when zero) timestamp,
// writes it as one line (after any queued records, in the same write call)
// and returns it as written. After a failed write every later Append fails
// too: the caller must treat that as a failure to audit (the enforcer
// denies), not retry into a possibly broken line.
func (w *Writer) Append(rec Record) (Record, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	rec, err := w.sealLocked(rec)
	if err != nil {
		return Record{}, err
	}
	if err := w.flushLocked(); err != nil {
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
// to do). After a failed write every later call fails, as for Append.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return w.err
	}
	return w.flushLocked()
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

// flushLocked writes the held lines. Once a write fails the chain's end in
// the file is unknown, so the error sticks.
func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	_, err := w.out.Write(w.buf) // io.Writer does not keep it: reused under w.mu
	w.buf = w.buf[:0]
	if cap(w.buf) > maxBuf {
		w.buf = nil
	}
	if err != nil {
		w.err = fmt.Errorf("append audit record: write: %w", err)
		return w.err
	}
	if w.file != nil && w.cfg.Sync == SyncEveryRecord {
		if err := w.file.Sync(); err != nil {
			w.err = fmt.Errorf("append audit record: sync: %w", err)
			return w.err
		}
	}
	return nil
}

// Head returns the seq and hash of the last record written or queued (0
// and Genesis for an empty chain). Keeping it elsewhere lets Verify's result be checked
// against records cut from the end of the file.
func (w *Writer) Head() (seq uint64, hash string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq, w.prev
}

// Sync writes the queued records, and flushes a file-backed Writer to
// disk.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		if err := w.flushLocked(); err != nil {
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

// Close syncs and closes the file a Writer opened; it does not close an
// io.Writer given to NewWriter. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var ferr error
	if len(w.buf) > 0 {
		ferr = w.flushLocked() // the held records
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
