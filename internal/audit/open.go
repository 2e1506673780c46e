package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrCorrupt means an existing log's last record does not verify, so the
// chain cannot be resumed. Run `aip audit verify` on the file.
var ErrCorrupt = errors.New("audit log corrupt")

// maxLine bounds a record line when reading a log back.
const maxLine = 64 << 20

// Open opens (creating with mode 0600) the log at path for appending and
// resumes its chain from the last complete record.
//
// A trailing partial line (the file does not end in a newline: a crash hit
// a write) is truncated away, and the number of bytes dropped is logged.
// It was never a record: the newline is what commits one, and cutting the
// fragment, rather than ending it with a newline, keeps every line of the
// file a complete chained record, so Verify stays strict about garbage in
// the middle of a log.
//
// Only the last record is checked (its own hash); an error wrapping
// ErrCorrupt means it does not verify. The rest of the file is Verify's job.
// One Writer per file: two processes appending to one log fork the chain.
func Open(path string, cfg Config) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	w := NewWriter(f, cfg)
	w.file = f
	if err := w.resume(path); err != nil {
		_ = f.Close() // the resume error is the one to report
		return nil, err
	}
	return w, nil
}

func (w *Writer) resume(path string) error {
	info, err := w.file.Stat()
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	size := info.Size()
	if size == 0 {
		return nil
	}
	lastNL, err := lastIndexByte(w.file, size, '\n')
	if err != nil {
		return fmt.Errorf("open audit log %s: %w", path, err)
	}
	if end := lastNL + 1; end < size {
		if err := w.file.Truncate(end); err != nil {
			return fmt.Errorf("open audit log %s: drop partial last line: %w", path, err)
		}
		w.cfg.Logger.Warn("audit log ended in a partial record; dropped it",
			"path", path, "bytes", size-end)
	}
	if lastNL < 0 {
		return nil // only a fragment: the chain starts afresh
	}
	prevNL, err := lastIndexByte(w.file, lastNL, '\n')
	if err != nil {
		return fmt.Errorf("open audit log %s: %w", path, err)
	}
	if lastNL-prevNL-1 > maxLine {
		return fmt.Errorf("open audit log %s: %w: last line over %d bytes", path, ErrCorrupt, maxLine)
	}
	line := make([]byte, lastNL-prevNL-1)
	if _, err := w.file.ReadAt(line, prevNL+1); err != nil {
		return fmt.Errorf("open audit log %s: read last record: %w", path, err)
	}
	fields, ok, err := openLine(line)
	if err != nil || !ok {
		return fmt.Errorf("open audit log %s: %w: last record does not verify", path, ErrCorrupt)
	}
	w.seq, w.prev, w.done = fields.Seq, fields.Hash, fields.Seq
	return nil
}

// lastIndexByte returns the offset of the last c in f before offset end,
// or -1, reading backwards in chunks.
func lastIndexByte(f io.ReaderAt, end int64, c byte) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	for end > 0 {
		start := max(end-chunk, 0)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		if i := bytes.LastIndexByte(b, c); i >= 0 {
			return start + int64(i), nil
		}
		end = start
	}
	return -1, nil
}
