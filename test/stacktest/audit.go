package stacktest

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/aip-project/aip/internal/audit"
)

// AuditRecords reads the records of the audit log at path, one a line.
// It does not check the chain: audit.Verify does.
func AuditRecords(t testing.TB, path string) []audit.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []audit.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit record: %v", err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
