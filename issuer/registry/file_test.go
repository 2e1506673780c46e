package registry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/registry/registrytest"
)

func TestFileStoreConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T, now func() time.Time) registry.Store {
		s, err := registry.OpenFile(registry.FileConfig{Path: filepath.Join(t.TempDir(), "agents.json"), Now: now})
		if err != nil {
			t.Fatalf("OpenFile: %v", err)
		}
		return s
	})
}

func TestFileStorePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agents.json")
	clk := registrytest.NewClock()
	s, err := registry.OpenFile(registry.FileConfig{Path: path, Now: clk.Now})
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	ctx := context.Background()
	a := registry.Agent{ID: "bot-1", PublicKey: registrytest.EdPublic("bot-1"), Capabilities: []string{"x"}}
	created, err := s.Create(ctx, a)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.UpdateStatus(ctx, "bot-1", registry.StatusRevoked); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(left) != 0 {
		t.Errorf("temp files left behind: %v", left)
	}

	reopened, err := registry.OpenFile(registry.FileConfig{Path: path, Now: clk.Now})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	got, err := reopened.GetByThumbprint(ctx, created.KeyThumbprint)
	if err != nil {
		t.Fatalf("GetByThumbprint after reopen: %v", err)
	}
	if got.Status != registry.StatusRevoked {
		t.Errorf("status after reopen = %q, want revoked", got.Status)
	}
	if _, err := reopened.UpdateStatus(ctx, "bot-1", registry.StatusActive); !errors.Is(err, registry.ErrRevoked) {
		t.Errorf("reactivate after reopen = %v, want ErrRevoked", err)
	}
}

func TestFileStoreWriteFailureKeepsState(t *testing.T) {
	dir := t.TempDir()
	s, err := registry.OpenFile(registry.FileConfig{Path: filepath.Join(dir, "missing", "agents.json")})
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Create(ctx, registry.Agent{ID: "bot-1", SPIFFEID: "spiffe://x/agent/bot-1"}); err == nil {
		t.Fatal("Create succeeded although the file cannot be written")
	}
	if _, err := s.Get(ctx, "bot-1"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("agent kept in memory after a failed write: %v", err)
	}
}

func TestOpenFileRejectsBadFiles(t *testing.T) {
	entries, err := os.ReadDir("testdata/bad-registry")
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			if _, err := registry.OpenFile(registry.FileConfig{Path: filepath.Join("testdata/bad-registry", e.Name())}); err == nil {
				t.Fatalf("OpenFile(%s) succeeded, want an error", e.Name())
			}
		})
	}
	if _, err := registry.OpenFile(registry.FileConfig{}); err == nil {
		t.Fatal("OpenFile without a path succeeded")
	}
}
