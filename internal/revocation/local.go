package revocation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aip-project/aip/internal/atomicfile"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"
)

// LocalConfig configures a Local store.
type LocalConfig struct {
	// Path, when set, is a JSON file the store loads at start and rewrites
	// atomically (mode 0600) on every revocation. Empty means memory only.
	Path string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Rand seeds the version epoch. Nil means crypto/rand.
	Rand io.Reader
}

// Local is the single-node Store. It is safe for concurrent use and
// notifies in-process watchers registered with OnRevoke.
type Local struct {
	path string
	now  func() time.Time

	mu       sync.RWMutex
	set      set
	epoch    string
	counter  uint64
	watchers map[int]func(Revocation)
	nextID   int
}

var _ Store = (*Local)(nil)

type localFile struct {
	Format      int          `json:"format"`
	Epoch       string       `json:"epoch"`
	Counter     uint64       `json:"counter"`
	Revocations []Revocation `json:"revocations"`
}

// NewLocal returns a Local store, loading cfg.Path if it exists.
func NewLocal(cfg LocalConfig) (*Local, error) {
	l := &Local{path: cfg.Path, now: cfg.Now, set: set{}, watchers: map[int]func(Revocation){}}
	if l.now == nil {
		l.now = time.Now
	}
	if cfg.Path != "" {
		data, err := os.ReadFile(cfg.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("read revocations %s: %w", cfg.Path, err)
		default:
			if err := l.load(data); err != nil {
				return nil, fmt.Errorf("load revocations %s: %w", cfg.Path, err)
			}
			return l, nil
		}
	}
	epoch, err := randomEpoch(cfg.Rand)
	if err != nil {
		return nil, err
	}
	l.epoch = epoch
	return l, nil
}

func (l *Local) load(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f localFile
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if f.Format != 1 || f.Epoch == "" {
		return fmt.Errorf("format %d with epoch %q: want format 1 and an epoch", f.Format, f.Epoch)
	}
	for i, r := range f.Revocations {
		if err := r.validate(r.RevokedAt); err != nil {
			return fmt.Errorf("revocations[%d]: %w", i, err)
		}
		l.set[keyOf(&r)] = r
	}
	l.epoch, l.counter = f.Epoch, f.Counter
	return nil
}

// Revoke implements Store. Watchers are called after the revocation is
// recorded, in the caller's goroutine.
func (l *Local) Revoke(_ context.Context, r Revocation) (Revocation, error) {
	now := l.now()
	r, err := prepare(r, now)
	if err != nil {
		return Revocation{}, err
	}
	l.mu.Lock()
	k := keyOf(&r)
	prev, had := l.set[k]
	l.set[k] = r
	l.counter++
	if err := l.save(now); err != nil {
		if had {
			l.set[k] = prev
		} else {
			delete(l.set, k)
		}
		l.counter--
		l.mu.Unlock()
		return Revocation{}, err
	}
	watchers := make([]func(Revocation), 0, len(l.watchers))
	for _, w := range l.watchers {
		watchers = append(watchers, w)
	}
	l.mu.Unlock()
	for _, w := range watchers {
		w(r)
	}
	return r, nil
}

// save writes the file, when configured; the caller holds l.mu.
func (l *Local) save(now time.Time) error {
	if l.path == "" {
		return nil
	}
	l.set.prune(now)
	data, err := json.MarshalIndent(localFile{Format: 1, Epoch: l.epoch, Counter: l.counter, Revocations: l.set.list(now)}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode revocations: %w", err)
	}
	if err := atomicfile.Write(l.path, data); err != nil {
		return fmt.Errorf("write revocations %s: %w", l.path, err)
	}
	return nil
}

// Check implements Checker.
func (l *Local) Check(_ context.Context, s Subjects) (*Revocation, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.set.check(s, l.now()), nil
}

// List implements Store.
func (l *Local) List(_ context.Context) (Snapshot, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return Snapshot{Version: l.epoch + "-" + strconv.FormatUint(l.counter, 10), Revocations: l.set.list(l.now())}, nil
}

// OnRevoke registers fn to be called with every new revocation and returns
// a function that unregisters it. fn must not block for long.
func (l *Local) OnRevoke(fn func(Revocation)) (cancel func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := l.nextID
	l.nextID++
	l.watchers[id] = fn
	return func() {
		l.mu.Lock()
		delete(l.watchers, id)
		l.mu.Unlock()
	}
}
