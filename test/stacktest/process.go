package stacktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aip-project/aip/test/env"
)

// CaptureStderr sends cmd's stderr to a file and, when t has failed by
// the time its cleanups run, logs the file's last 3000 bytes. Call it
// before registering the cleanup that stops cmd, so the log is read
// after cmd has exited.
func CaptureStderr(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.Base(cmd.Path)+".stderr")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = f
	t.Cleanup(func() {
		_ = f.Close()
		if !t.Failed() {
			return
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Logf("%s stderr: %v", filepath.Base(cmd.Path), err)
			return
		}
		t.Logf("%s stderr (last lines):\n%s", filepath.Base(cmd.Path), b[max(0, len(b)-3000):])
	})
}

// BuildCommands builds the aip commands named (aip, aip-issuer,
// aip-enforcer) from this tree into a temporary directory and returns it.
func BuildCommands(t testing.TB, names ...string) string {
	t.Helper()
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + "/"}
	for _, n := range names {
		args = append(args, "./cmd/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", names, err, out)
	}
	return dir
}
