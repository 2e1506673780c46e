package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Writer writes newline-delimited messages. It is safe for concurrent use:
// each message goes out whole, in one Write call, so messages from
// different goroutines never interleave.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteMessage writes msg followed by "\n". msg must be one non-empty line.
func (w *Writer) WriteMessage(msg []byte) error {
	if len(msg) == 0 {
		return errors.New("write message: empty message")
	}
	if bytes.IndexByte(msg, '\n') >= 0 {
		return errors.New("write message: message contains a newline")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(append(w.buf[:0], msg...), '\n')
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	if cap(w.buf) > 1<<20 {
		w.buf = nil // do not pin a large buffer after one big message
	}
	return nil
}
