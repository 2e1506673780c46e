package env

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// registry of shared components, stopped by Main.
var (
	mu       sync.Mutex
	stoppers []func()
	tmpDirs  []string
)

// Main runs the tests and then stops every component they started. Use it
// from TestMain: os.Exit(env.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Shutdown()
	return code
}

// Shutdown stops all components and removes their directories.
func Shutdown() {
	mu.Lock()
	s, d := stoppers, tmpDirs
	stoppers, tmpDirs = nil, nil
	mu.Unlock()
	for i := len(s) - 1; i >= 0; i-- {
		s[i]()
	}
	for _, dir := range d {
		_ = os.RemoveAll(dir)
	}
}

func onShutdown(f func()) {
	mu.Lock()
	defer mu.Unlock()
	stoppers = append(stoppers, f)
}

// tempDir makes a short directory (unix socket paths are limited to 108
// bytes) that Shutdown removes.
func tempDir(name string) (string, error) {
	dir, err := os.MkdirTemp("", "aip-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("temp dir for %s: %w", name, err)
	}
	mu.Lock()
	tmpDirs = append(tmpDirs, dir)
	mu.Unlock()
	return dir, nil
}

// skipShort skips an integration test under -short.
func skipShort(t testing.TB, component string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("integration test (needs %s); run without -short", component)
	}
}

// RepoRoot returns the root of the aip repository (the directory holding
// its go.mod).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if isRepoRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no aip go.mod above the working directory")
		}
		dir = parent
	}
}

func isRepoRoot(dir string) bool {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	return err == nil && strings.TrimSpace(line) == "module github.com/aip-project/aip"
}

// Binary finds a component binary: the environment variable envVar when
// set, else .tools/bin/<name> in the repository, else <name> on PATH.
// The error says how to get it.
func Binary(envVar, name string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("%s=%s does not exist: run `make tools` or point %s at a %s binary", envVar, p, envVar, name)
	}
	if root, err := RepoRoot(); err == nil {
		p := filepath.Join(root, ".tools", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found: run `make tools` (builds the pinned version into .tools/bin) or set %s to its path", name, envVar)
}

// once is a start-at-most-once cell that remembers a failed start, so every
// test that needs the component fails with the same clear message.
type once[T any] struct {
	mu  sync.Mutex
	val *T
	err error
}

func (o *once[T]) get(start func() (*T, error)) (*T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.val == nil && o.err == nil {
		o.val, o.err = start()
	}
	return o.val, o.err
}
