package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// flushSize is how much queued output a Writer holds before it writes
// without waiting for Flush.
const flushSize = 64 << 10

// maxKeptBuffer bounds the buffer a Writer keeps between messages: a larger
// one (after one big message) is dropped rather than pinned.
const maxKeptBuffer = 1 << 20

// Writer writes newline-delimited messages. It is safe for concurrent use:
// each message goes out whole, and messages from different goroutines
// never interleave. WriteMessage writes at once; Queue holds messages so
// that a burst goes out in one Write call, at the next Flush.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte // queued messages, each with its "\n"
}

// NewWriter returns a Writer over w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteMessage writes msg followed by "\n", after any queued messages, in
// one Write call. msg must be one non-empty line.
func (w *Writer) WriteMessage(msg []byte) error {
	if err := checkLine(msg); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(append(w.buf, msg...), '\n')
	return w.flushLocked()
}

// Queue adds msg followed by "\n" to the messages waiting for Flush (or
// the next WriteMessage); it writes them now when they exceed 64 KiB. msg
// must be one non-empty line; Queue copies it. A caller that queues must
// call Flush before it waits for anything, or the messages wait with it.
func (w *Writer) Queue(msg []byte) error {
	if err := checkLine(msg); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(append(w.buf, msg...), '\n')
	if len(w.buf) < flushSize {
		return nil
	}
	return w.flushLocked()
}

// Flush writes the queued messages in one Write call. On error they are
// dropped, as a failed WriteMessage drops its message.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	if cap(w.buf) > maxKeptBuffer {
		w.buf = nil
	}
	if err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

func checkLine(msg []byte) error {
	if len(msg) == 0 {
		return errors.New("write message: empty message")
	}
	if bytes.IndexByte(msg, '\n') >= 0 {
		return errors.New("write message: message contains a newline")
	}
	return nil
}
