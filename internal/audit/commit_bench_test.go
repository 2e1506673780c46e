package audit

import (
	"io"
	"path/filepath"
	"testing"
)

// writeCounter counts the write calls that reach the io.Writer under a
// Writer. Only the one caller writing at a time calls it, and the Writer's
// lock orders those calls, so the count needs no lock of its own.
type writeCounter struct {
	io.Writer
	writes int
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.writes++
	return c.Writer.Write(p)
}

// BenchmarkAppendParallel appends records to a file from GOMAXPROCS
// goroutines (run with -cpu 1 for the uncontended path). writes/record is
// the write calls per record: 1 without contention, less when concurrent
// Appends share writes; it measures the grouping without relying on wall
// time.
func BenchmarkAppendParallel(b *testing.B) {
	for _, bc := range []struct {
		name string
		sync SyncPolicy
	}{{"sync=none", SyncNone}, {"sync=every", SyncEveryRecord}} {
		b.Run(bc.name, func(b *testing.B) {
			w, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"), Config{Sync: bc.sync})
			if err != nil {
				b.Fatal(err)
			}
			counter := &writeCounter{Writer: w.out}
			w.out = counter // before any Append: set once, read by writers
			rec := sampleRecord(3)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := w.Append(rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(counter.writes)/float64(b.N), "writes/record")
		})
	}
}
