package policy

import (
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Bounds of the symlink cache. A directory's resolution is reused for at
// most symlinkTTL, so a directory created, replaced by a link or re-pointed
// is seen within that time; the final component of every path is looked at
// afresh each time.
const (
	symlinkTTL        = 500 * time.Millisecond
	symlinkCacheLimit = 1024
)

// symlinkCache resolves symlinks in argument paths as resolveSymlinks
// does, remembering for a short time what each parent directory resolves
// to: a path then costs at most one lstat (its last component) instead of
// one per component. A directory that does not exist is remembered as
// such (its path is then kept as written, below the part that resolved),
// so strings that are not paths cost nothing after the first. It is safe
// for concurrent use.
type symlinkCache struct {
	now func() time.Time
	ttl time.Duration
	max int

	mu   sync.Mutex
	dirs map[string]resolvedDir // keyed by the clean absolute path as written
}

type resolvedDir struct {
	real     string // as walkSymlinks returns it
	hops     int    // symlinks followed to reach real
	complete bool   // the directory exists: real is its real path
	expires  time.Time
}

func newSymlinkCache(now func() time.Time) *symlinkCache {
	if now == nil {
		now = time.Now
	}
	return &symlinkCache{now: now, ttl: symlinkTTL, max: symlinkCacheLimit, dirs: make(map[string]resolvedDir)}
}

// resolve returns resolveSymlinks(p) for an absolute clean p, using a
// remembered resolution of p's directory when one is fresh.
func (c *symlinkCache) resolve(p string) string {
	if p == "/" {
		return p
	}
	dir, name := filepath.Dir(p), filepath.Base(p)
	d, ok := c.lookup(dir)
	if !ok {
		real, hops, complete := walkSymlinks("/", strings.TrimPrefix(dir, "/"), 0)
		d = c.store(dir, resolvedDir{real: real, hops: hops, complete: complete})
	}
	if !d.complete {
		// The walk stopped in dir: the rest, name included, is as written.
		return filepath.Join(d.real, name)
	}
	res, _, _ := walkSymlinks(d.real, name, d.hops)
	return res
}

func (c *symlinkCache) lookup(dir string) (resolvedDir, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.dirs[dir]
	if !ok || !now.Before(d.expires) {
		return resolvedDir{}, false
	}
	return d, true
}

func (c *symlinkCache) store(dir string, d resolvedDir) resolvedDir {
	now := c.now()
	d.expires = now.Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dirs) >= c.max {
		for k, v := range c.dirs {
			if !now.Before(v.expires) {
				delete(c.dirs, k)
			}
		}
		if len(c.dirs) >= c.max {
			clear(c.dirs) // all fresh: start over rather than grow
		}
	}
	c.dirs[dir] = d
	return d
}
