package layering_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/aip-project/aip/"

// TestLayering lists the (non-test) dependencies of each group of packages
// with go list and refuses any that the group must not depend on.
func TestLayering(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	tests := []struct {
		name      string
		packages  string   // a go list pattern, below the module
		forbidden []string // package path prefixes, below the module
	}{
		{"identity is used by the issuer and the enforcer", "identity/...", []string{"issuer/"}},
		{"the enforcer verifies without the issuer", "enforcer/...", []string{"issuer/"}},
		{"federation serves both", "federation/...", []string{"issuer/", "enforcer/sidecar"}},
		{"shared stores", "internal/nonce/...", []string{"issuer/", "enforcer/"}},
		{"shared stores", "internal/revocation/...", []string{"issuer/", "enforcer/"}},
		{"config is plain data", "issuer/config", []string{"issuer/token", "issuer/signer", "issuer/server"}},
	}
	for _, tt := range tests {
		t.Run(tt.packages, func(t *testing.T) {
			out, err := exec.Command(goTool, "list", "-deps", module+tt.packages).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", tt.packages, err)
			}
			deps := strings.Fields(string(out))
			if len(deps) == 0 {
				t.Fatalf("go list %s: no packages", tt.packages)
			}
			for _, dep := range deps {
				for _, f := range tt.forbidden {
					if strings.HasPrefix(dep, module+f) {
						t.Errorf("%s depends on %s (%s)", tt.packages, dep, tt.name)
					}
				}
			}
		})
	}
}
