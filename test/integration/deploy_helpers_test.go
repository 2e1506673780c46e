package integration

import (
	"path/filepath"
	"testing"

	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// buildCommands builds aip, aip-issuer and aip-enforcer from this tree into
// a temporary directory and returns it.
func buildCommands(t *testing.T) string {
	t.Helper()
	return stacktest.BuildCommands(t, "aip", "aip-issuer", "aip-enforcer")
}

func repoDir(t *testing.T) string {
	t.Helper()
	repo, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// componentBinary finds a component binary as test/env does, or fails.
func componentBinary(t *testing.T, envVar, name string) string {
	t.Helper()
	p, err := env.Binary(envVar, name)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
