package enforcer

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aip-project/aip/enforcer/approval"
	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/internal/audit"
)

const testPolicy = `apiVersion: aip.io/v1alpha2
kind: AgentPolicy
metadata: {name: unit}
spec:
  mode: MODE
  allowed_tools: [read_file, list_dir]
  tool_rules:
    - tool: exec
      action: block
    - tool: deploy
      action: ask
    - tool: pinned
      schema_hash: "sha256:0000000000000000000000000000000000000000000000000000000000000000"
    - tool: send
      action: allow
  protected_paths: [/secret]
  dlp:
    scan_requests: true
    on_request_match: ON_MATCH
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`

const awsKey = "AKIAZ7QXW3JH5NB2LMKD"

func compileTest(t testing.TB, mode, onMatch string) *policy.Policy {
	t.Helper()
	y := strings.NewReplacer("MODE", mode, "ON_MATCH", onMatch).Replace(testPolicy)
	doc, err := policy.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Compile(doc, policy.Options{HomeDir: "/home/agent", WorkDir: "/work"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// approverFunc adapts a function to approval.Approver.
type approverFunc func(ctx context.Context, req approval.Request) (bool, error)

func (f approverFunc) Approve(ctx context.Context, req approval.Request) (bool, error) {
	return f(ctx, req)
}

// syncBuffer is an audit sink safe to read while the engine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []audit.Record {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := audit.Verify(bytes.NewReader(s.b.Bytes())); err != nil {
		t.Fatalf("audit chain does not verify: %v", err)
	}
	var out []audit.Record
	for _, line := range bytes.Split(bytes.TrimSpace(s.b.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r audit.Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEngine struct {
	*Engine
	audit *syncBuffer
}

func newTestEngine(t testing.TB, p *policy.Policy, a approval.Approver) testEngine {
	t.Helper()
	buf := &syncBuffer{}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := New(Config{
		Policy: p,
		Audit:  audit.NewWriter(buf, audit.Config{Now: func() time.Time { return fixed }}),
		Gate:   approval.NewGate(approval.GateConfig{Approver: a, Timeout: 200 * time.Millisecond}),
		Now:    func() time.Time { return fixed },
	})
	if err != nil {
		t.Fatal(err)
	}
	return testEngine{Engine: e, audit: buf}
}

// errorCode returns the error code of a JSON-RPC response, 0 if none.
func errorCode(t *testing.T, msg []byte) int {
	t.Helper()
	var r struct {
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg, &r); err != nil {
		t.Fatalf("reply %q is not JSON: %v", msg, err)
	}
	if r.Error == nil {
		return 0
	}
	return r.Error.Code
}

func toolCall(id int, tool, args string) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"` + tool + `","arguments":` + args + `}}`
}
