package audit

import (
	"bytes"
	"errors"
	"testing"
)

// countingWriter counts write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func TestQueue(t *testing.T) {
	tests := []struct {
		name   string
		finish func(t *testing.T, w *Writer)
		writes int // write calls for the whole test
		recs   int
	}{
		{name: "Flush writes the held records in one call", finish: func(t *testing.T, w *Writer) {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}, writes: 1, recs: 3},
		{name: "Append writes the held records first, in one call", finish: func(t *testing.T, w *Writer) {
			appendN(t, w, 1)
		}, writes: 1, recs: 4},
		{name: "Close writes the held records", finish: func(t *testing.T, w *Writer) {
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}, writes: 1, recs: 3},
		{name: "Sync writes the held records", finish: func(t *testing.T, w *Writer) {
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
		}, writes: 1, recs: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := &countingWriter{}
			w := NewWriter(out, Config{})
			for i := range 3 {
				if _, err := w.Queue(sampleRecord(i)); err != nil {
					t.Fatal(err)
				}
			}
			if out.Len() != 0 {
				t.Fatalf("Queue wrote %d bytes; want them held", out.Len())
			}
			if seq, _ := w.Head(); seq != 3 {
				t.Fatalf("Head seq %d after 3 queued; want 3", seq)
			}
			tc.finish(t, w)
			if out.writes != tc.writes {
				t.Errorf("%d write calls; want %d", out.writes, tc.writes)
			}
			if err := w.Flush(); err != nil { // nothing held: nothing to do
				t.Fatal(err)
			}
			if rep, err := Verify(bytes.NewReader(out.Bytes())); err != nil || rep.Records != tc.recs || rep.Finding != nil {
				t.Fatalf("Verify = %d records, finding %v, err %v; want %d records", rep.Records, rep.Finding, err, tc.recs)
			}
		})
	}
}

func TestQueueFlushFailureSticks(t *testing.T) {
	fw := &failingWriter{}
	w := NewWriter(fw, Config{})
	if _, err := w.Queue(sampleRecord(1)); err != nil {
		t.Fatal(err)
	}
	fw.fail = true
	if err := w.Flush(); err == nil {
		t.Fatal("Flush on a failing writer: want error")
	}
	fw.fail = false
	if _, err := w.Queue(sampleRecord(2)); err == nil {
		t.Error("Queue after a failed write: want the sticky error")
	}
	if err := w.Flush(); err == nil {
		t.Error("Flush after a failed write: want the sticky error")
	}
	if _, err := w.Append(sampleRecord(3)); err == nil {
		t.Error("Append after a failed write: want the sticky error")
	}
	_ = w.Close()
	if _, err := w.Queue(sampleRecord(4)); !errors.Is(err, ErrClosed) {
		t.Errorf("Queue after Close = %v, want ErrClosed", err)
	}
}
