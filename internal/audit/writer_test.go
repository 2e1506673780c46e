package audit

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func verifyFile(t *testing.T, path string) Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Verify(f)
	if err != nil {
		t.Fatalf("Verify %s: %v", path, err)
	}
	return rep
}

func appendN(t *testing.T, w *Writer, n int) {
	t.Helper()
	for i := range n {
		if _, err := w.Append(sampleRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				rec := sampleRecord(i)
				rec.RequestID = fmt.Sprintf("g%d-%d", g, i)
				if _, err := w.Append(rec); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := verifyFile(t, path); rep.Records != writers*each {
		t.Errorf("verified %d records, want %d", rep.Records, writers*each)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("new log mode %v, want 0600", perm)
	}
}

func TestResume(t *testing.T) {
	tests := []struct {
		name       string
		damage     func(t *testing.T, path string) // applied between the two sessions
		wantTotal  int
		wantErr    error
		wantLogged bool
	}{
		{"clean reopen", func(*testing.T, string) {}, 5, nil, false},
		{"partial last line dropped", func(t *testing.T, path string) {
			appendFile(t, path, `{"seq":4,"timestamp":"2026-01-02T0`)
		}, 5, nil, true},
		{"only a fragment", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(`{"seq":1,"time`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 2, nil, true},
		{"last record altered", func(t *testing.T, path string) {
			replaceInFile(t, path, `"decision":"BLOCK","direction":"upstream","dlp":{"aws_key":2}`, `"decision":"ALLOW","direction":"upstream","dlp":{"aws_key":2}`)
		}, 0, ErrCorrupt, false},
		{"last line garbage", func(t *testing.T, path string) { appendFile(t, path, "garbage\n") }, 0, ErrCorrupt, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			w, err := Open(path, Config{Sync: SyncEveryRecord, Now: fixedClock()})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, w, 3)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, path)

			var logs bytes.Buffer
			w, err = Open(path, Config{Now: fixedClock(), Logger: newTestLogger(&logs)})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("reopen error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			appendN(t, w, 2)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rep := verifyFile(t, path)
			if rep.Records != tt.wantTotal || rep.IncompleteTail || rep.LastSeq != uint64(tt.wantTotal) {
				t.Errorf("after resume: %d records, last seq %d, incomplete %v; want %d", rep.Records, rep.LastSeq, rep.IncompleteTail, tt.wantTotal)
			}
			if logged := strings.Contains(logs.String(), "partial record"); logged != tt.wantLogged {
				t.Errorf("recovery logged = %v, want %v (%s)", logged, tt.wantLogged, logs.String())
			}
		})
	}
}

func TestResumeLongRecord(t *testing.T) {
	// A last record longer than one backward read chunk.
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 1)
	rec := sampleRecord(0)
	rec.Reason = strings.Repeat("r", 200<<10)
	if _, err := w.Append(rec); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if w, err = Open(path, Config{}); err != nil {
		t.Fatal(err)
	}
	if seq, _ := w.Head(); seq != 2 {
		t.Errorf("resumed at seq %d, want 2", seq)
	}
	appendN(t, w, 1)
	_ = w.Close()
	if rep := verifyFile(t, path); rep.Records != 3 {
		t.Errorf("verified %d records, want 3", rep.Records)
	}
}

func TestAppendAfterFailure(t *testing.T) {
	fw := &failingWriter{}
	w := NewWriter(fw, Config{})
	appendN(t, w, 1)
	fw.fail = true
	if _, err := w.Append(sampleRecord(1)); err == nil {
		t.Fatal("Append on a failing writer: want error")
	}
	fw.fail = false
	if _, err := w.Append(sampleRecord(2)); err == nil {
		t.Error("Append after a failed write: want the sticky error")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(sampleRecord(3)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
}

func TestAppendRefusesInvalidArgs(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Config{})
	rec := sampleRecord(0)
	rec.Args = []byte(`{"a":`)
	if _, err := w.Append(rec); err == nil {
		t.Fatal("invalid args: want error")
	}
	appendN(t, w, 1) // the failed record did not advance the chain
	if rep, err := Verify(&buf); err != nil || rep.Records != 1 {
		t.Errorf("Verify = %d records, %v", rep.Records, err)
	}
}

type failingWriter struct{ fail bool }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.fail {
		return len(p) / 2, errors.New("disk full")
	}
	return len(p), nil
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %s", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newTestLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}
