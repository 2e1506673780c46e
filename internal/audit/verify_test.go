package audit

import (
	"errors"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	lines := writeLog(t, 5)
	tamper := func(i int, old, new string) string { return strings.Replace(lines[i], old, new, 1) }
	join := func(ls ...string) string { return strings.Join(ls, "") }
	tests := []struct {
		name       string
		log        string
		kind       FindingKind // "" means the chain verifies
		line       int
		seq        uint64
		records    int
		incomplete bool
	}{
		{"empty", ``, "", 0, 0, 0, false},
		{"clean", join(lines...), "", 0, 0, 5, false},
		{"field tampered", join(lines[0], lines[1], tamper(2, `"BLOCK"`, `"ALLOW"`), lines[3], lines[4]), Altered, 3, 3, 2, false},
		{"field added", join(lines[0], tamper(1, `{`, `{"args":{"x":1},`), lines[2]), Altered, 2, 2, 1, false},
		{"hash removed", join(lines[0], tamper(1, `,"hash":"`, `,"hush":"`)), Malformed, 2, 0, 1, false},
		{"duplicate member", join(lines[0], tamper(1, `{`, `{"decision":"ALLOW",`)), Malformed, 2, 0, 1, false},
		{"not json", join(lines[0], "garbage\n", lines[1]), Malformed, 2, 0, 1, false},
		{"blank line", join(lines[0], "\n", lines[1]), Malformed, 2, 0, 1, false},
		{"middle line deleted", join(lines[0], lines[1], lines[3], lines[4]), Deleted, 3, 4, 2, false},
		{"first line deleted", join(lines[1:]...), Deleted, 1, 2, 0, false},
		{"old line inserted", join(lines[0], lines[1], lines[0], lines[2]), Inserted, 3, 1, 2, false},
		{"line duplicated", join(lines[0], lines[1], lines[1], lines[2]), Inserted, 3, 2, 2, false},
		{"lines swapped", join(lines[0], lines[2], lines[1], lines[3]), Reordered, 2, 3, 1, false},
		{"last two swapped", join(lines[0], lines[1], lines[2], lines[4], lines[3]), Reordered, 4, 5, 3, false},
		{"moved to the front", join(lines[3], lines[0], lines[1]), Reordered, 1, 4, 0, false},
		{"re-hashed after an edit", join(lines[0], rehash(t, tamper(1, `"BLOCK"`, `"ALLOW"`)), lines[2]), Altered, 3, 3, 2, false},
		{"last line truncated mid-record", join(lines[0], lines[1], lines[2][:40]), "", 0, 0, 2, true},
		{"last newline missing", join(lines[0], strings.TrimSuffix(lines[1], "\n")), "", 0, 0, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Verify(strings.NewReader(tt.log))
			if rep.Records != tt.records || rep.IncompleteTail != tt.incomplete {
				t.Errorf("records=%d incomplete=%v, want %d %v", rep.Records, rep.IncompleteTail, tt.records, tt.incomplete)
			}
			if tt.kind == "" {
				if err != nil || rep.Finding != nil {
					t.Fatalf("Verify = %v, want a clean chain", err)
				}
				return
			}
			var f *Finding
			if !errors.As(err, &f) || !errors.Is(err, ErrTampered) {
				t.Fatalf("Verify error = %v, want a Finding", err)
			}
			if f.Kind != tt.kind || f.Line != tt.line || f.Seq != tt.seq {
				t.Errorf("finding %v, want %s at line %d seq %d", f, tt.kind, tt.line, tt.seq)
			}
		})
	}
}

func TestVerifyReportsHead(t *testing.T) {
	lines := writeLog(t, 3)
	rep, err := Verify(strings.NewReader(strings.Join(lines, "")))
	if err != nil {
		t.Fatal(err)
	}
	if rep.LastSeq != 3 || !strings.Contains(lines[2], `"hash":"`+rep.LastHash+`"`) {
		t.Errorf("head = %d %s, want seq 3 and the last line's hash", rep.LastSeq, rep.LastHash)
	}
}

func TestVerifyAcceptsReformattedRecords(t *testing.T) {
	// The hash covers the record's content, not its layout: a record whose
	// members were reordered and spaced out still verifies.
	lines := writeLog(t, 1)
	spaced := strings.Replace(lines[0], `{`, `{ `, 1)
	spaced = strings.Replace(spaced, `,"hash":`, ` , "hash" : `, 1)
	if _, err := Verify(strings.NewReader(spaced)); err != nil {
		t.Errorf("reformatted record: %v", err)
	}
}

// rehash recomputes a tampered line's own hash, as a forger would; the next
// record's prev_hash still gives it away.
func rehash(t *testing.T, line string) string {
	t.Helper()
	i := strings.Index(line, `,"hash":"`)
	body := line[:i] + "}"
	sum, err := canonicalSHA256([]byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	return line[:i] + `,"hash":"` + sum + "\"}\n"
}
