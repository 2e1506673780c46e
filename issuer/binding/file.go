package binding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/aip-project/aip/internal/atomicfile"
)

// FileConfig configures a FileStore.
type FileConfig struct {
	// Path is the JSON file holding the bindings. Required. It is created
	// (mode 0600) on the first write; its directory must exist.
	Path string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// FileStore is the single-node Store: bindings in memory, every change
// rewriting one JSON file atomically. Expired bindings are dropped on the
// next write. Two processes must not share a file.
type FileStore struct {
	path string
	now  func() time.Time

	mu       sync.Mutex
	bindings map[string]Binding
}

var _ Store = (*FileStore)(nil)

type fileData struct {
	Format   int       `json:"format"`
	Bindings []Binding `json:"bindings"`
}

// OpenFile loads the bindings at cfg.Path (an absent file is none).
func OpenFile(cfg FileConfig) (*FileStore, error) {
	if cfg.Path == "" {
		return nil, errors.New("binding file store: path is required")
	}
	s := &FileStore{path: cfg.Path, now: cfg.Now, bindings: map[string]Binding{}}
	if s.now == nil {
		s.now = time.Now
	}
	data, err := os.ReadFile(cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read bindings: %w", err)
	}
	var f fileData
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("bindings file %s: %w", cfg.Path, err)
	}
	if f.Format != 1 {
		return nil, fmt.Errorf("bindings file %s: unknown format %d", cfg.Path, f.Format)
	}
	for _, b := range f.Bindings {
		s.bindings[b.ID] = b
	}
	return s, nil
}

// Create implements Store.
func (s *FileStore) Create(_ context.Context, b Binding) (*Binding, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.bindings[b.ID]; ok {
		return nil, fmt.Errorf("%w: id %q exists", ErrInvalid, b.ID)
	}
	b = clone(b)
	b.CreatedAt = s.now().UTC()
	s.bindings[b.ID] = b
	if err := s.save(); err != nil {
		delete(s.bindings, b.ID)
		return nil, err
	}
	out := clone(b)
	return &out, nil
}

// Get implements Store.
func (s *FileStore) Get(_ context.Context, id string) (*Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bindings[id]
	if !ok || !b.Active(s.now()) {
		return nil, ErrNotFound
	}
	out := clone(b)
	return &out, nil
}

// List implements Store.
func (s *FileStore) List(_ context.Context, f Filter) ([]Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Binding{}
	for _, b := range s.bindings {
		if b.Active(now) && f.match(&b) {
			out = append(out, clone(b))
		}
	}
	sortByCreation(out)
	return out, nil
}

// Revoke implements Store.
func (s *FileStore) Revoke(_ context.Context, id string) (*Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bindings[id]
	if !ok || !b.Active(s.now()) {
		return nil, ErrNotFound
	}
	delete(s.bindings, id)
	if err := s.save(); err != nil {
		s.bindings[id] = b
		return nil, err
	}
	return &b, nil
}

// RevokeUser implements Store.
func (s *FileStore) RevokeUser(_ context.Context, user string) ([]Binding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []Binding{}
	for id, b := range s.bindings {
		if b.User == user {
			delete(s.bindings, id)
			if b.Active(now) {
				out = append(out, b)
			}
		}
	}
	if err := s.save(); err != nil {
		for _, b := range out {
			s.bindings[b.ID] = b
		}
		return nil, err
	}
	sortByCreation(out)
	return out, nil
}

// save writes the active bindings; s.mu is held.
func (s *FileStore) save() error {
	now := s.now()
	f := fileData{Format: 1, Bindings: []Binding{}}
	for id, b := range s.bindings {
		if !b.Active(now) {
			delete(s.bindings, id)
			continue
		}
		f.Bindings = append(f.Bindings, b)
	}
	sortByCreation(f.Bindings)
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode bindings: %w", err)
	}
	if err := atomicfile.Write(s.path, data); err != nil {
		return fmt.Errorf("write bindings: %w", err)
	}
	return nil
}
