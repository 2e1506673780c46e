package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/codes"
)

func fixedClock() func() time.Time {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("CET", 3600))
	return func() time.Time { return t0 }
}

func sampleRecord(i int) Record {
	return Record{
		Direction:  Upstream,
		Decision:   Block,
		PolicyMode: "enforce",
		Violation:  true,
		Method:     "tools/call",
		Tool:       "exec_command",
		FailedRule: "allow_args",
		FailedArg:  "cmd",
		Reason:     "argument cmd does not match ^ls$",
		Code:       codes.Forbidden,
		ArgsSHA256: strings.Repeat("ab", 32),
		DLP:        map[string]int{"aws_key": i},
		AgentID:    "agent-1",
		RequestID:  "req-" + string(rune('a'+i)),
	}
}

// writeLog writes n records and returns the log's lines (each with "\n").
func writeLog(t *testing.T, n int) []string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, Config{Now: fixedClock()})
	for i := range n {
		if _, err := w.Append(sampleRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	return strings.SplitAfter(buf.String(), "\n")[:n]
}

func TestAppendRecord(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Config{Now: fixedClock()})
	r1, err := w.Append(sampleRecord(1))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := w.Append(Record{Decision: Issue, Timestamp: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Seq != 1 || r1.PrevHash != Genesis || r2.Seq != 2 || r2.PrevHash != r1.Hash || len(r1.Hash) != 64 {
		t.Errorf("chain fields: r1 %d %s %s; r2 %d %s", r1.Seq, r1.PrevHash, r1.Hash, r2.Seq, r2.PrevHash)
	}
	if seq, head := w.Head(); seq != 2 || head != r2.Hash {
		t.Errorf("Head = %d %s, want 2 %s", seq, head, r2.Hash)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines", len(lines))
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"seq": 1.0, "timestamp": "2026-01-02T02:04:05.0000006Z", "direction": "upstream",
		"decision": "BLOCK", "policy_mode": "enforce", "violation": true, "method": "tools/call",
		"tool": "exec_command", "failed_rule": "allow_args", "failed_arg": "cmd",
		"code": -32001.0, "args_sha256": strings.Repeat("ab", 32), "agent_id": "agent-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for _, absent := range []string{"user_id", "aat_jti", "session_id", "args", "policy_hash"} {
		if _, ok := got[absent]; ok {
			t.Errorf("empty %s written", absent)
		}
	}
	if !strings.Contains(lines[1], `"timestamp":"2030-01-01T00:00:00Z"`) {
		t.Errorf("given timestamp not kept: %s", lines[1])
	}
}

func TestArgsDigest(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		same    bool
		wantErr bool
	}{
		{"key order and spacing", `{"b":1,"a":"x"}`, `{ "a" : "x", "b" : 1.0 }`, true, false},
		{"escapes", `{"a":"\u0041"}`, `{"a":"A"}`, true, false},
		{"absent is empty object", ``, `{}`, true, false},
		{"values differ", `{"a":1}`, `{"a":2}`, false, false},
		{"invalid", `{"a":`, `{}`, false, true},
		{"duplicate names", `{"a":1,"a":2}`, `{}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			da, err := ArgsDigest(json.RawMessage(tt.a))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ArgsDigest(%s) error = %v, wantErr %v", tt.a, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			db, err := ArgsDigest(json.RawMessage(tt.b))
			if err != nil {
				t.Fatal(err)
			}
			if (da == db) != tt.same || len(da) != 64 {
				t.Errorf("digests %s %s, want same=%v", da, db, tt.same)
			}
		})
	}
	// Pin the algorithm: SHA-256 of the canonical form `{}`.
	if d, _ := ArgsDigest(nil); d != "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
		t.Errorf("digest of {} = %s", d)
	}
}
