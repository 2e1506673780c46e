package policy

import (
	"testing"
	"time"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// header is the start of a valid policy; tests append a spec.
const header = "apiVersion: aip.io/v1alpha2\nkind: AgentPolicy\nmetadata:\n  name: test\n"

func mustParse(t testing.TB, src string) *Document {
	t.Helper()
	doc, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return doc
}

func mustCompile(t testing.TB, src string, opts Options) *Policy {
	t.Helper()
	if opts.HomeDir == "" {
		opts.HomeDir = "/home/agent"
	}
	if opts.WorkDir == "" {
		opts.WorkDir = "/"
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return epoch }
	}
	p, err := Compile(mustParse(t, src), opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}
