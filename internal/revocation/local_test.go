package revocation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/internal/revocation/revocationtest"
)

func TestLocalConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocation.Store {
			l, err := revocation.NewLocal(revocation.LocalConfig{Now: now})
			if err != nil {
				t.Fatalf("NewLocal: %v", err)
			}
			return l
		})
	})
	t.Run("file", func(t *testing.T) {
		revocationtest.Run(t, func(t *testing.T, now func() time.Time) revocation.Store {
			l, err := revocation.NewLocal(revocation.LocalConfig{Path: filepath.Join(t.TempDir(), "revocations.json"), Now: now})
			if err != nil {
				t.Fatalf("NewLocal: %v", err)
			}
			return l
		})
	})
}

func TestLocalPersists(t *testing.T) {
	clk := revocationtest.NewClock()
	path := filepath.Join(t.TempDir(), "revocations.json")
	cfg := revocation.LocalConfig{Path: path, Now: clk.Now}
	l, err := revocation.NewLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, r := range []revocation.Revocation{
		{Kind: revocation.KindAgent, Subject: "a1", Reason: "key leaked"},
		{Kind: revocation.KindJTI, Subject: "j1", ExpiresAt: clk.Now().Add(time.Minute)},
	} {
		if _, err := l.Revoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := l.List(ctx)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file %v, %v; want mode 0600", fi, err)
	}
	again, err := revocation.NewLocal(cfg)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	after, _ := again.List(ctx)
	if after.Version != before.Version || len(after.Revocations) != 2 {
		t.Fatalf("after reopen %+v, want %+v", after, before)
	}
	if r, _ := again.Check(ctx, revocation.Subjects{AgentID: "a1"}); r == nil || r.Reason != "key leaked" {
		t.Fatalf("Check after reopen = %+v", r)
	}
}

func TestLocalRejectsBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad-local/*")
	if len(files) == 0 {
		t.Fatal("no testdata/bad-local files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := revocation.NewLocal(revocation.LocalConfig{Path: f}); err == nil {
				t.Fatalf("NewLocal(%s) succeeded", f)
			}
		})
	}
}

func TestLocalWriteFailure(t *testing.T) {
	l, err := revocation.NewLocal(revocation.LocalConfig{Path: filepath.Join(t.TempDir(), "missing", "r.json")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before, _ := l.List(ctx)
	if _, err := l.Revoke(ctx, revocation.Revocation{Kind: revocation.KindUser, Subject: "u"}); err == nil {
		t.Fatal("Revoke succeeded although the file cannot be written")
	}
	after, _ := l.List(ctx)
	if len(after.Revocations) != 0 || after.Version != before.Version {
		t.Fatalf("a failed revocation changed the store: %+v", after)
	}
}

func TestLocalOnRevoke(t *testing.T) {
	l, err := revocation.NewLocal(revocation.LocalConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var got []string
	cancel := l.OnRevoke(func(r revocation.Revocation) { got = append(got, r.Subject) })
	_, _ = l.Revoke(ctx, revocation.Revocation{Kind: revocation.KindSession, Subject: "s1"})
	_, _ = l.Revoke(ctx, revocation.Revocation{Kind: revocation.KindSession}) // invalid: not notified
	cancel()
	_, _ = l.Revoke(ctx, revocation.Revocation{Kind: revocation.KindSession, Subject: "s2"})
	if len(got) != 1 || got[0] != "s1" {
		t.Fatalf("notified of %v, want [s1]", got)
	}
}

func TestNewLocalRandFailure(t *testing.T) {
	_, err := revocation.NewLocal(revocation.LocalConfig{Rand: errReader{}})
	if err == nil {
		t.Fatal("NewLocal succeeded without randomness")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }
