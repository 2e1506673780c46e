package jsonrpc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxMessageSize is the largest message a Reader returns when no
// limit is given: 4 MiB.
const DefaultMaxMessageSize = 4 << 20

// ErrTooLarge reports a line over the Reader's limit. The line has been
// consumed and discarded; the next call to Next reads the following line.
var ErrTooLarge = errors.New("message too large")

// Reader reads newline-delimited messages. It is not safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	max  int
	acc  []byte // a line that spans several buffer fills, at most max bytes
	line []byte // NextShared's result, reused until Keep
}

// maxKeptLine bounds the line buffer a Reader keeps between calls: a larger
// one (after one big message) is dropped rather than pinned.
const maxKeptLine = 1 << 20

// NewReader returns a Reader over r that refuses lines longer than maxSize
// bytes (excluding the line terminator). maxSize <= 0 means
// DefaultMaxMessageSize.
func NewReader(r io.Reader, maxSize int) *Reader {
	if maxSize <= 0 {
		maxSize = DefaultMaxMessageSize
	}
	return &Reader{br: bufio.NewReaderSize(r, min(maxSize+2, 64<<10)), max: maxSize}
}

// Next returns the next message line without its "\n" or "\r\n"; the slice
// is the caller's to keep. Lines holding only whitespace are skipped. A
// last line without a terminator is returned as a message.
//
// Errors: io.EOF at the clean end of input; an error wrapping ErrTooLarge
// for an oversized line, after which reading may go on; any other error
// from the underlying reader, wrapped.
func (r *Reader) Next() ([]byte, error) {
	line, err := r.NextShared()
	if err != nil {
		return nil, err
	}
	r.Keep()
	return line, nil
}

// NextShared is Next without an allocation per line: the slice is valid
// only until the next call to Next or NextShared, which reuses its memory,
// unless Keep is called first. It suits a loop that is done with each line
// before reading the next.
func (r *Reader) NextShared() ([]byte, error) {
	if cap(r.line) > maxKeptLine {
		r.line = nil
	}
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimLeft(line, " \t\r")) != 0 {
			return line, nil
		}
	}
}

// Keep makes the line NextShared returned last the caller's to keep: the
// Reader will not reuse its memory.
func (r *Reader) Keep() { r.line = nil }

// Ready reports whether a whole non-blank line is already buffered, so
// that Next will return it without reading from the underlying reader. A
// writer that batches its output flushes when Ready is false, before the
// next read may block.
func (r *Reader) Ready() bool {
	buf, _ := r.br.Peek(r.br.Buffered())
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return false
		}
		if len(bytes.TrimLeft(buf[:i], " \t\r")) != 0 {
			return true
		}
		buf = buf[i+1:]
	}
}

func (r *Reader) readLine() ([]byte, error) {
	r.acc = r.acc[:0]
	var total int64 // bytes of this line consumed so far, terminator included
	tooLarge := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		total += int64(len(chunk))
		content := chunk
		if err == nil {
			content = chunk[:len(chunk)-1]
		}
		if !tooLarge && len(r.acc)+len(content) > r.max {
			tooLarge = true
			r.acc = r.acc[:0]
		}
		switch {
		case err == nil:
			if tooLarge {
				return nil, r.tooLarge(total - 1)
			}
			if len(r.acc) == 0 {
				return r.copyLine(content), nil
			}
			r.acc = append(r.acc, content...)
			return r.copyLine(r.acc), nil
		case errors.Is(err, bufio.ErrBufferFull):
			if !tooLarge {
				r.acc = append(r.acc, content...)
			}
		case errors.Is(err, io.EOF):
			switch {
			case total == 0:
				return nil, io.EOF
			case tooLarge:
				return nil, r.tooLarge(total)
			}
			r.acc = append(r.acc, content...)
			return r.copyLine(r.acc), nil
		default:
			return nil, fmt.Errorf("read message: %w", err)
		}
	}
}

// copyLine copies b, without a trailing "\r", into the reused line buffer.
func (r *Reader) copyLine(b []byte) []byte {
	r.line = append(r.line[:0], trimCR(b)...)
	return r.line
}

func (r *Reader) tooLarge(size int64) error {
	return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, r.max)
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
