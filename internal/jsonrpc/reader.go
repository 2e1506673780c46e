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
	br  *bufio.Reader
	max int
	acc []byte // a line that spans several buffer fills, at most max bytes
}

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
				return trimCR(bytes.Clone(content)), nil
			}
			r.acc = append(r.acc, content...)
			return trimCR(bytes.Clone(r.acc)), nil
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
			return trimCR(bytes.Clone(r.acc)), nil
		default:
			return nil, fmt.Errorf("read message: %w", err)
		}
	}
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
