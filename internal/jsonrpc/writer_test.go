package jsonrpc

import (
	"strings"
	"testing"
)

// writes records each Write call.
type writes []string

func (w *writes) Write(p []byte) (int, error) {
	*w = append(*w, string(p))
	return len(p), nil
}

func TestWriterQueue(t *testing.T) {
	var got writes
	w := NewWriter(&got)
	for _, m := range []string{`{"a":1}`, `{"b":2}`} {
		if err := w.Queue([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 0 {
		t.Fatalf("Queue wrote %q before Flush", got)
	}
	if err := w.Queue([]byte("{}\n{}")); err == nil {
		t.Error("Queue accepted a message with a newline")
	}
	if err := w.WriteMessage([]byte(`{"c":3}`)); err != nil {
		t.Fatal(err)
	}
	if want := (writes{"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"}); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("writes = %q, want the queued messages and the new one in one write: %q", got, want)
	}
	if err := w.Flush(); err != nil || len(got) != 1 {
		t.Fatalf("Flush with nothing queued: %v, writes %q", err, got)
	}
}

func TestWriterQueueBounded(t *testing.T) {
	var got writes
	w := NewWriter(&got)
	msg := []byte(`"` + strings.Repeat("x", 1000) + `"`)
	for range flushSize/len(msg) + 1 {
		if err := w.Queue(msg); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || len(got[0]) < flushSize {
		t.Fatalf("after more than %d bytes queued: %d writes; want one write of them all", flushSize, len(got))
	}
}
