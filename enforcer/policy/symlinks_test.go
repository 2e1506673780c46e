package policy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSymlinkCacheResolvesAsWalk: cached or not, a path resolves exactly
// as resolveSymlinks resolves it.
func TestSymlinkCacheResolvesAsWalk(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"real/sub", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "real", "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mustLink(t, filepath.Join(root, "real"), filepath.Join(root, "abs"))
	mustLink(t, "real/sub", filepath.Join(root, "rel"))
	mustLink(t, "../abs/sub", filepath.Join(root, "other", "up"))
	mustLink(t, filepath.Join(root, "missing"), filepath.Join(root, "dangling"))
	mustLink(t, "loop2", filepath.Join(root, "loop1"))
	mustLink(t, "loop1", filepath.Join(root, "loop2"))
	mustLink(t, filepath.Join(root, "real", "file"), filepath.Join(root, "tofile"))
	mustLink(t, "/", filepath.Join(root, "slash"))
	paths := []string{
		"/", root, root + "/real", root + "/real/sub/x", root + "/abs/sub/x", root + "/rel/x/y",
		root + "/other/up/x", root + "/dangling", root + "/dangling/x", root + "/loop1", root + "/loop1/x",
		root + "/tofile", root + "/tofile/x", root + "/slash", root + "/slash" + root + "/abs/file",
		root + "/nope/abs/x", root + "/abs",
	}
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := newSymlinkCache(clock.Now)
	for round := range 2 { // the second round reads the cache
		for _, p := range paths {
			if got, want := c.resolve(p), resolveSymlinks(p); got != want {
				t.Errorf("round %d: resolve(%s) = %s, want %s", round, p, got, want)
			}
		}
	}
	if len(c.dirs) == 0 {
		t.Error("nothing was cached")
	}
}

// TestSymlinkCacheExpiry: a directory that becomes a link into a protected
// directory is seen once the cached resolution expires, and not before
// (which shows the cache is in play, so the check after expiry means
// something).
func TestSymlinkCacheExpiry(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, dir string) // the state first resolved
	}{
		{"plain directory replaced by a link", func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"missing directory created as a link", func(*testing.T, string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			secret := filepath.Join(root, "secret")
			if err := os.MkdirAll(secret, 0o700); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "work", "d")
			tt.before(t, dir)
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			p := mustCompile(t, header+"spec:\n  allowed_tools: [t]\n  protected_paths: [\""+secret+"\"]\n",
				Options{WorkDir: root, Now: clock.Now})
			protected := func() bool {
				d := p.EvaluateToolCall(context.Background(), "t", map[string]any{"p": filepath.Join(dir, "id_rsa")})
				return d.FailedRule == RuleProtectedPath
			}
			if protected() {
				t.Fatal("protected before the link exists")
			}
			if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			mustLink(t, secret, dir)
			clock.Advance(symlinkTTL - time.Millisecond)
			if protected() {
				t.Fatal("the cache was not used within its TTL")
			}
			clock.Advance(time.Millisecond)
			if !protected() {
				t.Fatal("a link changed after the TTL was not seen")
			}
		})
	}
}

// TestSymlinkCacheFinalComponent: the last component is never cached, so
// a link created there is seen at once.
func TestSymlinkCacheFinalComponent(t *testing.T) {
	root := t.TempDir()
	secret := filepath.Join(root, "secret")
	if err := os.MkdirAll(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, header+"spec:\n  allowed_tools: [t]\n  protected_paths: [\""+secret+"\"]\n", Options{WorkDir: root})
	link := filepath.Join(root, "innocent")
	check := func() bool {
		return p.EvaluateToolCall(context.Background(), "t", map[string]any{"p": link}).FailedRule == RuleProtectedPath
	}
	if check() {
		t.Fatal("a missing file was protected")
	}
	mustLink(t, secret, link)
	if !check() {
		t.Fatal("a new link in a cached directory was not seen")
	}
}

func TestSymlinkCacheBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c := newSymlinkCache(clock.Now)
	c.max = 8
	root := t.TempDir()
	for i := range 50 {
		d := filepath.Join(root, fmt.Sprint(i))
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		c.resolve(filepath.Join(d, "x"))
		if len(c.dirs) > c.max {
			t.Fatalf("%d entries, limit %d", len(c.dirs), c.max)
		}
		if i%10 == 0 {
			clock.Advance(symlinkTTL)
		}
	}
}

func BenchmarkSymlinkResolve(b *testing.B) {
	p := filepath.Join(b.TempDir(), "a", "b", "c", "file.txt")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		b.Fatal(err)
	}
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			resolveSymlinks(p)
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := newSymlinkCache(nil)
		for b.Loop() {
			c.resolve(p)
		}
	})
}
