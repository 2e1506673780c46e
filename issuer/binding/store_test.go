package binding_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/binding/bindingtest"
	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) { os.Exit(env.Main(m)) }

func TestFileStoreConformance(t *testing.T) {
	bindingtest.Run(t, func(t *testing.T, now func() time.Time) binding.Store {
		s, err := binding.OpenFile(binding.FileConfig{Path: filepath.Join(t.TempDir(), "bindings.json"), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestRedisStoreConformance(t *testing.T) {
	r := env.Redis(t)
	bindingtest.Run(t, func(t *testing.T, now func() time.Time) binding.Store {
		s, err := binding.NewRedis(binding.RedisConfig{Client: r.Client(t), Prefix: "test:" + t.Name(), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// The file store keeps bindings across a restart.
func TestFileStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bindings.json")
	clk := bindingtest.NewClock()
	s, err := binding.OpenFile(binding.FileConfig{Path: path, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(t.Context(), bindingtest.Sample("b1", "alice", "bot", clk.Now())); err != nil {
		t.Fatal(err)
	}
	s2, err := binding.OpenFile(binding.FileConfig{Path: path, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(t.Context(), "b1"); err != nil {
		t.Errorf("Get after reopen: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("bindings file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := binding.OpenFile(binding.FileConfig{Path: path}); err == nil {
		t.Error("OpenFile of a corrupt file succeeded")
	}
}
