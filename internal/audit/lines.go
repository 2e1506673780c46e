package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// lineReader yields the lines of a log, telling a complete line (ended by a
// newline) from a trailing fragment.
type lineReader struct {
	br     *bufio.Reader
	n      int // line number of the last line returned, from 1
	peeked *logLine
}

type logLine struct {
	n        int
	text     []byte
	complete bool // ended with a newline
	tooLong  bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next line, or nil at the end of input.
func (lr *lineReader) next() (*logLine, error) {
	if l := lr.peeked; l != nil {
		lr.peeked = nil
		return l, nil
	}
	var text []byte
	tooLong := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong && len(text)+len(chunk) > maxLine {
			tooLong, text = true, nil
		}
		if !tooLong {
			text = append(text, chunk...)
		}
		switch {
		case err == nil:
			lr.n++
			if !tooLong {
				text = text[:len(text)-1]
			}
			return &logLine{n: lr.n, text: text, complete: true, tooLong: tooLong}, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(text) == 0 && !tooLong {
				return nil, nil
			}
			lr.n++
			return &logLine{n: lr.n, text: text, tooLong: tooLong}, nil
		default:
			return nil, fmt.Errorf("read audit log: %w", err)
		}
	}
}

// peek returns the next line without consuming it.
func (lr *lineReader) peek() (*logLine, error) {
	if lr.peeked == nil {
		l, err := lr.next()
		if err != nil {
			return nil, err
		}
		lr.peeked = l
	}
	return lr.peeked, nil
}
