package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aip-project/aip/internal/atomicfile"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// fileFormat is the version of the file store's JSON layout.
const fileFormat = 1

// FileConfig configures a FileStore.
type FileConfig struct {
	// Path is the JSON file holding the registry. Required. It is created
	// (mode 0600) on the first write; its directory must exist.
	Path string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// FileStore is the single-node Store: agents are kept in memory and every
// change rewrites one JSON file atomically. It is safe for concurrent use
// within one process; two processes must not share a file.
type FileStore struct {
	path string
	now  func() time.Time

	mu     sync.RWMutex
	agents map[string]*Agent
	bySID  map[string]string // spiffe id -> agent id
	byJKT  map[string]string // key thumbprint -> agent id
}

var _ Store = (*FileStore)(nil)

type fileData struct {
	Format int     `json:"format"`
	Agents []Agent `json:"agents"`
}

// OpenFile loads the registry at cfg.Path (an absent file is an empty
// registry) and returns a store writing back to it.
func OpenFile(cfg FileConfig) (*FileStore, error) {
	if cfg.Path == "" {
		return nil, errors.New("registry file store: path is required")
	}
	s := &FileStore{
		path:   cfg.Path,
		now:    cfg.Now,
		agents: map[string]*Agent{},
		bySID:  map[string]string{},
		byJKT:  map[string]string{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	data, err := os.ReadFile(cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry %s: %w", cfg.Path, err)
	}
	if err := s.load(data); err != nil {
		return nil, fmt.Errorf("load registry %s: %w", cfg.Path, err)
	}
	return s, nil
}

func (s *FileStore) load(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var fd fileData
	if err := dec.Decode(&fd); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if fd.Format != fileFormat {
		return fmt.Errorf("format %d: want %d", fd.Format, fileFormat)
	}
	for i := range fd.Agents {
		a := &fd.Agents[i]
		if err := a.Validate(); err != nil {
			return fmt.Errorf("agents[%d]: %w", i, err)
		}
		if a.PublicKey != nil {
			jkt, err := Thumbprint(a.PublicKey)
			if err != nil {
				return fmt.Errorf("agents[%d]: %w", i, err)
			}
			a.KeyThumbprint = jkt
		}
		if err := s.index(a); err != nil {
			return fmt.Errorf("agents[%d]: %w", i, err)
		}
	}
	return nil
}

// conflict reports which unique field of a is already taken.
func (s *FileStore) conflict(a *Agent) error {
	if _, ok := s.agents[a.ID]; ok {
		return fmt.Errorf("agent_id %q: %w", a.ID, ErrExists)
	}
	if _, ok := s.bySID[a.SPIFFEID]; ok && a.SPIFFEID != "" {
		return fmt.Errorf("spiffe_id %q: %w", a.SPIFFEID, ErrExists)
	}
	if _, ok := s.byJKT[a.KeyThumbprint]; ok && a.KeyThumbprint != "" {
		return fmt.Errorf("public key %s: %w", a.KeyThumbprint, ErrExists)
	}
	return nil
}

func (s *FileStore) index(a *Agent) error {
	if err := s.conflict(a); err != nil {
		return err
	}
	s.agents[a.ID] = a
	if a.SPIFFEID != "" {
		s.bySID[a.SPIFFEID] = a.ID
	}
	if a.KeyThumbprint != "" {
		s.byJKT[a.KeyThumbprint] = a.ID
	}
	return nil
}

func (s *FileStore) unindex(a *Agent) {
	delete(s.agents, a.ID)
	delete(s.bySID, a.SPIFFEID)
	delete(s.byJKT, a.KeyThumbprint)
}

// save writes the registry; the caller holds s.mu.
func (s *FileStore) save() error {
	fd := fileData{Format: fileFormat, Agents: make([]Agent, 0, len(s.agents))}
	for _, a := range s.agents {
		fd.Agents = append(fd.Agents, *a)
	}
	slices.SortFunc(fd.Agents, func(a, b Agent) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(fd, "", "  ")
	if err != nil {
		return fmt.Errorf("encode registry: %w", err)
	}
	if err := atomicfile.Write(s.path, data); err != nil {
		return fmt.Errorf("write registry %s: %w", s.path, err)
	}
	return nil
}

// Create implements Store.
func (s *FileStore) Create(_ context.Context, a Agent) (*Agent, error) {
	c, err := Prepare(a, s.now())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.index(c); err != nil {
		return nil, fmt.Errorf("create agent: %w", err)
	}
	if err := s.save(); err != nil {
		s.unindex(c)
		return nil, err
	}
	return c.clone(), nil
}

// Get implements Store.
func (s *FileStore) Get(_ context.Context, id string) (*Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.agents[id]
	if !ok {
		return nil, notFound("id", id)
	}
	return a.clone(), nil
}

// List implements Store.
func (s *FileStore) List(_ context.Context) ([]Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Agent, 0, len(s.agents))
	for _, a := range s.agents {
		out = append(out, *a.clone())
	}
	slices.SortFunc(out, func(a, b Agent) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// UpdateStatus implements Store.
func (s *FileStore) UpdateStatus(_ context.Context, id string, st Status) (*Agent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agents[id]
	if !ok {
		return nil, notFound("id", id)
	}
	if err := checkTransition(id, a.Status, st); err != nil {
		return nil, err
	}
	if a.Status == st {
		return a.clone(), nil
	}
	prev := *a
	a.Status, a.UpdatedAt = st, s.now().UTC()
	if err := s.save(); err != nil {
		*a = prev
		return nil, err
	}
	return a.clone(), nil
}

// GetBySPIFFEID implements Store.
func (s *FileStore) GetBySPIFFEID(_ context.Context, sid string) (*Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.bySID[sid]
	if !ok || sid == "" {
		return nil, notFound("spiffe id", sid)
	}
	return s.agents[id].clone(), nil
}

// GetByThumbprint implements Store.
func (s *FileStore) GetByThumbprint(_ context.Context, jkt string) (*Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byJKT[jkt]
	if !ok || jkt == "" {
		return nil, notFound("key thumbprint", jkt)
	}
	return s.agents[id].clone(), nil
}
