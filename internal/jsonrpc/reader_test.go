package jsonrpc

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains r, recording each line and each error by sentinel.
func readAll(t *testing.T, r *Reader) []string {
	t.Helper()
	var got []string
	for i := 0; i < 100; i++ {
		line, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return got
		case errors.Is(err, ErrTooLarge):
			got = append(got, "<too large>")
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			got = append(got, string(line))
		}
	}
	t.Fatal("reader did not reach EOF")
	return nil
}

func TestReader(t *testing.T) {
	big := strings.Repeat("x", 40)
	tests := []struct {
		name  string
		input string
		max   int
		want  []string
	}{
		{"empty input", "", 0, nil},
		{"one line", "{}\n", 0, []string{"{}"}},
		{"crlf", "{}\r\n[1]\r\n", 0, []string{"{}", "[1]"}},
		{"last line without newline", "{}\n[1]", 0, []string{"{}", "[1]"}},
		{"blank lines skipped", "\n  \n{}\n\r\n\t\n", 0, []string{"{}"}},
		{"exactly at limit", "12345\n", 5, []string{"12345"}},
		{"one over limit", "123456\nok\n", 5, []string{"<too large>", "ok"}},
		{"oversized then more", big + "\n{}\n" + big + "\n[]\n", 10, []string{"<too large>", "{}", "<too large>", "[]"}},
		{"oversized at eof without newline", "{}\n" + big, 10, []string{"{}", "<too large>"}},
		{"line spans buffer fills", big + "\n", 64, []string{big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// OneByteReader forces every line across many reads.
			for _, src := range []io.Reader{strings.NewReader(tt.input), iotest.OneByteReader(strings.NewReader(tt.input))} {
				got := readAll(t, NewReader(src, tt.max))
				if strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("lines = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestReaderDoesNotBufferOversizedLine(t *testing.T) {
	const limit = 1 << 10
	huge := strings.Repeat("a", 8<<20)
	r := NewReader(strings.NewReader(huge+"\n{}\n"), limit)
	if _, err := r.Next(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Next = %v, want ErrTooLarge", err)
	}
	if cap(r.acc) > limit*2 {
		t.Errorf("reader buffered %d bytes of an oversized line, limit %d", cap(r.acc), limit)
	}
	line, err := r.Next()
	if err != nil || string(line) != "{}" {
		t.Fatalf("Next after oversized = %q, %v; want {}", line, err)
	}
}

func TestReaderLinesAreOwned(t *testing.T) {
	r := NewReader(strings.NewReader("{\"a\":1}\n{\"b\":2}\n"), 0)
	first, _ := r.Next()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if string(first) != `{"a":1}` {
		t.Errorf("first line changed to %q after the next read", first)
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(iotest.ErrReader(boom), 0)
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("Next = %v, want wrapped boom", err)
	}
}

func TestReaderNextShared(t *testing.T) {
	r := NewReader(strings.NewReader("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"), 0)
	first, _ := r.NextShared()
	r.Keep()
	second, _ := r.NextShared()
	if _, err := r.NextShared(); err != nil {
		t.Fatal(err)
	}
	if string(first) != `{"a":1}` {
		t.Errorf("a kept line changed to %q after the next read", first)
	}
	if string(second) != `{"c":3}` {
		t.Errorf("a shared line is %q after the next read; want its memory reused", second)
	}
}

func TestReaderReady(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool // after the first Next
	}{
		{"whole line buffered", "{}\n{}\n", true},
		{"part of a line", "{}\n{\"a\":", false},
		{"blank lines only", "{}\n \r\n\n", false},
		{"blank then whole line", "{}\n\n{}\n", true},
		{"nothing", "{}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.input), 0)
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
			if got := r.Ready(); got != tt.want {
				t.Errorf("Ready() = %v, want %v", got, tt.want)
			}
		})
	}
}
