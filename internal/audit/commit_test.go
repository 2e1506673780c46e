package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
)

// gatedWriter holds its first write call until release is closed, and
// fails every call from the failFrom-th on (0: none fails). It keeps what
// each call was given. A Writer makes one write call at a time.
type gatedWriter struct {
	release  chan struct{}
	failFrom int
	calls    [][]byte // the bytes of each call, in order
	written  bytes.Buffer
}

func newGatedWriter() *gatedWriter { return &gatedWriter{release: make(chan struct{})} }

func (g *gatedWriter) Write(p []byte) (int, error) {
	g.calls = append(g.calls, bytes.Clone(p))
	if len(g.calls) == 1 {
		<-g.release
	}
	if g.failFrom > 0 && len(g.calls) >= g.failFrom {
		return len(p) / 2, errors.New("disk full")
	}
	return g.written.Write(p)
}

// lineFields are the members of a written line the tests look at.
type lineFields struct {
	Seq       uint64 `json:"seq"`
	RequestID string `json:"request_id"`
	Hash      string `json:"hash"`
}

func readLines(t *testing.T, b []byte) []lineFields {
	t.Helper()
	var lines []lineFields
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		var f lineFields
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("line %d: %v", len(lines)+1, err)
		}
		lines = append(lines, f)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// appendAll runs goroutines × each Appends, request ids "g<goroutine>-<i>",
// and returns what each returned, by request id.
func appendAll(w *Writer, goroutines, each int) (recs map[string]Record, errs map[string]error) {
	var mu sync.Mutex
	recs, errs = map[string]Record{}, map[string]error{}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				rec := sampleRecord(i % 8)
				rec.RequestID = fmt.Sprintf("g%d-%d", g, i)
				got, err := w.Append(rec)
				mu.Lock()
				recs[rec.RequestID], errs[rec.RequestID] = got, err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return recs, errs
}

// checkSealOrder checks that lines hold every record Append returned, each
// once, at the place of its seq.
func checkSealOrder(t *testing.T, lines []lineFields, recs map[string]Record) {
	t.Helper()
	if len(lines) != len(recs) {
		t.Errorf("%d lines written, want %d", len(lines), len(recs))
	}
	seen := map[string]bool{}
	for i, l := range lines {
		rec, ok := recs[l.RequestID]
		switch {
		case !ok:
			t.Fatalf("line %d: request id %q was never appended", i+1, l.RequestID)
		case seen[l.RequestID]:
			t.Fatalf("line %d: request id %q written twice", i+1, l.RequestID)
		case rec.Seq != uint64(i+1) || rec.Hash != l.Hash:
			t.Fatalf("line %d holds %q; Append returned seq %d for it", i+1, l.RequestID, rec.Seq)
		}
		seen[l.RequestID] = true
	}
}

func TestGroupCommitFile(t *testing.T) {
	tests := []struct {
		name             string
		sync             SyncPolicy
		goroutines, each int
	}{
		{"sync none", SyncNone, 64, 100},
		{"sync every record", SyncEveryRecord, 64, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			w, err := Open(path, Config{Sync: tt.sync})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 3) // the chain continues after records already there
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w, err = Open(path, Config{Sync: tt.sync}); err != nil {
				t.Fatal(err)
			}
			recs, errs := appendAll(w, tt.goroutines, tt.each)
			for id, err := range errs {
				if err != nil {
					t.Fatalf("Append %s: %v", id, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			total := 3 + tt.goroutines*tt.each
			if rep := verifyFile(t, path); rep.Records != total || rep.IncompleteTail {
				t.Fatalf("verified %d records (incomplete tail %v), want %d", rep.Records, rep.IncompleteTail, total)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, b)
			for _, rec := range recs {
				rec.Seq -= 3 // checkSealOrder counts from the first line given
				recs[rec.RequestID] = rec
			}
			checkSealOrder(t, lines[3:], recs)
		})
	}
}

func TestGroupCommitSharesWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const goroutines, each = 64, 100
		out := newGatedWriter()
		w := NewWriter(out, Config{})
		done := make(chan struct{})
		var recs map[string]Record
		var errs map[string]error
		go func() {
			recs, errs = appendAll(w, goroutines, each)
			close(done)
		}()
		// One caller is in the first write; every other one has sealed its
		// first record and waits for a write that holds it.
		synctest.Wait()
		if seq, _ := w.Head(); seq != goroutines {
			t.Fatalf("Head seq %d while the first write is held; want %d records sealed", seq, goroutines)
		}
		close(out.release)
		<-done
		for id, err := range errs {
			if err != nil {
				t.Fatalf("Append %s: %v", id, err)
			}
		}
		t.Logf("%d write calls for %d records", len(out.calls), goroutines*each)
		if records := goroutines * each; len(out.calls) >= records {
			t.Errorf("%d write calls for %d concurrent records; want fewer", len(out.calls), records)
		}
		if rep, err := Verify(bytes.NewReader(out.written.Bytes())); err != nil || rep.Records != goroutines*each {
			t.Fatalf("Verify = %d records, %v", rep.Records, err)
		}
		checkSealOrder(t, readLines(t, out.written.Bytes()), recs)
	})
}

func TestGroupCommitFailure(t *testing.T) {
	const goroutines = 64
	tests := []struct {
		name     string
		failFrom int // the first write (of one record) is held until all are sealed
		written  int // records written before the failure
	}{
		// The records sealed while the first write was held are the next
		// write, which fails: each of their Appends fails.
		{"the write of the waiting records fails", 2, 1},
		// The held write fails: the records sealed behind it are never
		// written, and their Appends fail too.
		{"the held write fails", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				out := newGatedWriter()
				out.failFrom = tt.failFrom
				w := NewWriter(out, Config{})
				done := make(chan struct{})
				var recs map[string]Record
				var errs map[string]error
				go func() {
					recs, errs = appendAll(w, goroutines, 1)
					close(done)
				}()
				synctest.Wait() // all sealed: one in the first write, the others waiting
				close(out.release)
				<-done

				if len(out.calls) != tt.failFrom {
					t.Fatalf("%d write calls; want %d: none after the failed one", len(out.calls), tt.failFrom)
				}
				wrote := readLines(t, out.written.Bytes())
				if len(wrote) != tt.written {
					t.Fatalf("%d records written; want %d", len(wrote), tt.written)
				}
				for _, l := range wrote {
					if errs[l.RequestID] != nil || recs[l.RequestID].Hash != l.Hash {
						t.Errorf("Append %s, written: %v", l.RequestID, errs[l.RequestID])
					}
				}
				if failed := readLines(t, out.calls[len(out.calls)-1]); tt.failFrom == 2 && len(failed) != goroutines-1 {
					t.Errorf("the failed write held %d records; want %d", len(failed), goroutines-1)
				}
				failures := 0
				for _, err := range errs {
					if err != nil {
						failures++
					}
				}
				if failures != goroutines-tt.written {
					t.Errorf("%d Appends failed; want every one not written, %d", failures, goroutines-tt.written)
				}

				// The error sticks, and nothing more is written.
				if _, err := w.Append(sampleRecord(1)); err == nil {
					t.Error("Append after a failed write: want the sticky error")
				}
				if _, err := w.Queue(sampleRecord(2)); err == nil {
					t.Error("Queue after a failed write: want the sticky error")
				}
				if err := w.Flush(); err == nil {
					t.Error("Flush after a failed write: want the sticky error")
				}
				if err := w.Close(); err != nil {
					t.Errorf("Close after a failed write, nothing held: %v", err)
				}
				if len(out.calls) != tt.failFrom {
					t.Errorf("%d write calls after the failed one", len(out.calls)-tt.failFrom)
				}
				if rep, err := Verify(bytes.NewReader(out.written.Bytes())); err != nil || rep.Records != tt.written {
					t.Errorf("Verify = %d records, %v; want %d", rep.Records, err, tt.written)
				}
			})
		})
	}
}

func TestGroupCommitQueue(t *testing.T) {
	// Records queued, then a write in progress holding them: Flush waits
	// for it rather than writing again, and returns once they are written.
	synctest.Test(t, func(t *testing.T) {
		out := newGatedWriter()
		w := NewWriter(out, Config{})
		for i := range 2 {
			if _, err := w.Queue(sampleRecord(i)); err != nil {
				t.Fatal(err)
			}
		}
		appended := make(chan error)
		go func() {
			_, err := w.Append(sampleRecord(2)) // writes the queued records with its own
			appended <- err
		}()
		synctest.Wait()
		flushed := make(chan error)
		go func() { flushed <- w.Flush() }()
		synctest.Wait() // Flush waits for the write in progress
		select {
		case err := <-flushed:
			t.Fatalf("Flush returned (%v) while the write of the queued records is held", err)
		default:
		}
		close(out.release)
		if err := <-flushed; err != nil {
			t.Fatal(err)
		}
		if err := <-appended; err != nil {
			t.Fatal(err)
		}
		if len(out.calls) != 1 {
			t.Errorf("%d write calls; want 1", len(out.calls))
		}
		if rep, err := Verify(bytes.NewReader(out.written.Bytes())); err != nil || rep.Records != 3 {
			t.Errorf("Verify = %d records, %v; want 3", rep.Records, err)
		}
	})
}

func TestCloseWaitsForWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const goroutines = 8
		out := newGatedWriter()
		w := NewWriter(out, Config{})
		done := make(chan struct{})
		var errs map[string]error
		go func() {
			_, errs = appendAll(w, goroutines, 1)
			close(done)
		}()
		synctest.Wait() // one record in the held write, the others sealed and waiting
		closed := make(chan error)
		go func() { closed <- w.Close() }()
		synctest.Wait() // Close waits for the write in progress
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) while a write is held", err)
		default:
		}
		if _, err := w.Append(sampleRecord(1)); !errors.Is(err, ErrClosed) {
			t.Errorf("Append while closing = %v, want ErrClosed", err)
		}
		close(out.release)
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		<-done
		for id, err := range errs {
			if err != nil {
				t.Errorf("Append %s, sealed before Close: %v", id, err)
			}
		}
		calls := len(out.calls)
		if _, err := w.Queue(sampleRecord(2)); !errors.Is(err, ErrClosed) {
			t.Errorf("Queue after Close = %v, want ErrClosed", err)
		}
		if err := w.Flush(); err != nil {
			t.Errorf("Flush after Close, nothing held: %v", err)
		}
		if len(out.calls) != calls {
			t.Error("written after Close")
		}
		if rep, err := Verify(bytes.NewReader(out.written.Bytes())); err != nil || rep.Records != goroutines {
			t.Errorf("Verify = %d records, %v; want %d", rep.Records, err, goroutines)
		}
	})
}
