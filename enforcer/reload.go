package enforcer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/aip-project/aip/enforcer/policy"
)

// reloadDebounce lets an editor finish a multi-step save before reloading.
const reloadDebounce = 100 * time.Millisecond

// Reloader reloads an Engine's policy from its file: on demand (Reload,
// e.g. on SIGHUP) and whenever the file changes (Watch). A policy that
// fails to load leaves the one in force and is logged with the reason.
type Reloader struct {
	// Path is the policy file.
	Path string
	// Options compile the policy; keep one RateLimiter in them so limits
	// survive reloads.
	Options policy.Options
	// Engine receives the new policy.
	Engine *Engine
	// Logger reports reloads and failures. Nil discards.
	Logger *slog.Logger
}

func (r *Reloader) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Reload loads the policy file and puts it in force if it changed.
func (r *Reloader) Reload() error {
	p, err := policy.Load(r.Path, r.Options)
	if err == nil && p.Hash() == r.Engine.Policy().Hash() {
		return nil
	}
	if err == nil {
		err = r.Engine.SetPolicy(p)
	}
	if err != nil {
		r.logger().Error("policy reload failed; the previous policy stays in force",
			"path", r.Path, "policy_hash", r.Engine.Policy().Hash(), "err", err)
		return fmt.Errorf("reload policy: %w", err)
	}
	r.logger().Info("policy reloaded", "path", r.Path, "policy", p.Name(), "policy_hash", p.Hash(), "mode", p.Mode())
	return nil
}

// Watch reloads the policy when its file changes, and on every value from
// hup (e.g. SIGHUP), until ctx ends. It watches the file's directory, so
// editors that save by renaming a new file over the old one, and
// Kubernetes ConfigMap symlink swaps, are seen.
func (r *Reloader) Watch(ctx context.Context, hup <-chan os.Signal) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch policy: %w", err)
	}
	defer w.Close()
	dir, base := filepath.Split(filepath.Clean(r.Path))
	if dir == "" {
		dir = "."
	}
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watch policy directory %s: %w", dir, err)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			r.logger().Info("reloading the policy on SIGHUP", "path", r.Path)
			_ = r.Reload() // logged; the old policy stays
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("watch policy: watcher closed")
			}
			if name := filepath.Base(ev.Name); name == base || name == "..data" {
				timer.Reset(reloadDebounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("watch policy: watcher closed")
			}
			r.logger().Warn("policy file watcher error", "err", err)
		case <-timer.C:
			_ = r.Reload() // logged; the old policy stays
		}
	}
}
