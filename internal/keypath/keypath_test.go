package keypath_test

import (
	"errors"
	"testing"

	"github.com/aip-project/aip/internal/keypath"
)

func TestJoin(t *testing.T) {
	tests := []struct {
		name, path, key, want string
	}{
		{"root", "", "spec", "spec"},
		{"nested", "spec", "tool_rules", "spec.tool_rules"},
		{"slash and dash are plain", "spec.allow_args", "a-b/c", "spec.allow_args.a-b/c"},
		{"url is quoted", "policies", "https://mcp/x", `policies["https://mcp/x"]`},
		{"dot is quoted", "a", "b.c", `a["b.c"]`},
		{"empty key is quoted", "a", "", `a[""]`},
		{"quoted at root", "", "a b", `["a b"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keypath.Join(tt.path, tt.key); got != tt.want {
				t.Errorf("Join(%q, %q) = %q, want %q", tt.path, tt.key, got, tt.want)
			}
		})
	}
	if got := keypath.Index("tests", 3); got != "tests[3]" {
		t.Errorf("Index = %q", got)
	}
}

func TestProblems(t *testing.T) {
	errTest := errors.New("invalid test")
	var ps keypath.Problems
	if err := ps.Err(errTest, "invalid test"); err != nil {
		t.Fatalf("Err of no problems = %v", err)
	}
	ps.Add("", "empty document")
	ps.Add("a.b", "must be %q", "x")
	ps.AddUnder("spec.dlp", []keypath.Problem{{Path: "patterns[1].regex", Message: "bad"}, {Path: `["odd key"]`, Message: "odd"}, {Message: "whole"}})
	err := ps.Err(errTest, "invalid test")
	want := `invalid test: empty document; a.b: must be "x"; spec.dlp.patterns[1].regex: bad; spec.dlp["odd key"]: odd; spec.dlp: whole`
	if err == nil || err.Error() != want {
		t.Errorf("Err = %v\nwant %s", err, want)
	}
	if !errors.Is(err, errTest) {
		t.Error("errors.Is(err, sentinel) is false")
	}
	var verr *keypath.ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 5 {
		t.Errorf("errors.As = %v", verr)
	}
	if err := ps.Err(nil, "dlp config"); errors.Unwrap(err) != nil {
		t.Errorf("Err without a sentinel unwraps to %v", errors.Unwrap(err))
	}
}
