package integration

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aip-project/aip/test/env"
)

// buildCommands builds aip, aip-issuer and aip-enforcer from this tree into
// a temporary directory and returns it.
func buildCommands(t *testing.T) string {
	t.Helper()
	repo := repoDir(t)
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/aip", "./cmd/aip-issuer", "./cmd/aip-enforcer")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the commands: %v\n%s", err, out)
	}
	return dir
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
