package signer

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aip-project/aip/identity/jwk"
)

// transitState is what a Transit signer last read of its key.
type transitState struct {
	fetched time.Time
	latest  int
	keys    map[int]Key // by version; NotAfter set on all but the latest
}

func (s *transitState) published(now time.Time) []Key {
	versions := make([]int, 0, len(s.keys))
	for v := range s.keys {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	slices.Reverse(versions)
	out := make([]Key, 0, len(versions))
	for _, v := range versions {
		k := s.keys[v]
		if k.NotAfter.IsZero() || now.Before(k.NotAfter) {
			out = append(out, k)
		}
	}
	return out
}

// transitKey is the part of Vault's GET transit/keys/NAME aip reads.
type transitKey struct {
	Type                 string `json:"type"`
	Exportable           bool   `json:"exportable"`
	AllowPlaintextBackup bool   `json:"allow_plaintext_backup"`
	SupportsSigning      bool   `json:"supports_signing"`
	LatestVersion        int    `json:"latest_version"`
	MinDecryptionVersion int    `json:"min_decryption_version"`
	MinAvailableVersion  int    `json:"min_available_version"`
	Keys                 map[string]struct {
		PublicKey    string    `json:"public_key"`
		CreationTime time.Time `json:"creation_time"`
	} `json:"keys"`
}

func (t *Transit) cached() *transitState {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.state
}

// load returns the cached state, reading Vault again when it is older than
// CacheTTL or does not know version (0: any).
func (t *Transit) load(ctx context.Context, version int) (*transitState, error) {
	fresh := func(s *transitState) bool {
		return s != nil && t.cfg.Now().Sub(s.fetched) < t.cfg.CacheTTL && version <= s.latest
	}
	if s := t.cached(); fresh(s) {
		return s, nil
	}
	t.refresh.Lock()
	defer t.refresh.Unlock()
	if s := t.cached(); fresh(s) { // another caller just read it
		return s, nil
	}
	s, err := t.read(ctx)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("transit key %s/%s: not found", t.cfg.Mount, t.cfg.Key)
	}
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
	return s, nil
}

// ensureKey reads the key, creating it first when it is missing and
// cfg.Create is set.
func (t *Transit) ensureKey(ctx context.Context) error {
	t.refresh.Lock()
	defer t.refresh.Unlock()
	s, err := t.read(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		if !t.cfg.Create {
			return fmt.Errorf("transit key %s/%s: not found (set create to make it)", t.cfg.Mount, t.cfg.Key)
		}
		if err := t.create(ctx); err != nil {
			return err
		}
		if s, err = t.read(ctx); err != nil {
			return err
		}
		if s == nil {
			return fmt.Errorf("transit key %s/%s: not found after creation", t.cfg.Mount, t.cfg.Key)
		}
	}
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
	return nil
}

func (t *Transit) create(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	_, err := t.client.Logical().WriteWithContext(ctx, t.path("keys"), map[string]any{
		"type":                   t.cfg.KeyType,
		"exportable":             false,
		"allow_plaintext_backup": false,
	})
	if err != nil {
		return vaultError("create transit key", err)
	}
	return nil
}

// read reads the key from Vault; nil, nil means it does not exist.
func (t *Transit) read(ctx context.Context) (*transitState, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	secret, err := t.client.Logical().ReadWithContext(ctx, t.path("keys"))
	if err != nil {
		return nil, vaultError("read transit key", err)
	}
	if secret == nil || secret.Data == nil {
		return nil, nil
	}
	raw, err := json.Marshal(secret.Data)
	if err != nil {
		return nil, fmt.Errorf("read transit key: %w", err)
	}
	var tk transitKey
	if err := json.Unmarshal(raw, &tk); err != nil {
		return nil, fmt.Errorf("read transit key: %w", err)
	}
	return t.parse(tk)
}

// parse checks the key against aip's key policy and builds the state.
func (t *Transit) parse(tk transitKey) (*transitState, error) {
	name := t.cfg.Mount + "/" + t.cfg.Key
	switch {
	case tk.Type != t.cfg.KeyType:
		return nil, fmt.Errorf("%w: transit key %s is %q, want %q", ErrKeyPolicy, name, tk.Type, t.cfg.KeyType)
	case tk.Exportable:
		return nil, fmt.Errorf("%w: transit key %s is exportable", ErrKeyPolicy, name)
	case tk.AllowPlaintextBackup:
		return nil, fmt.Errorf("%w: transit key %s allows plaintext backup", ErrKeyPolicy, name)
	case !tk.SupportsSigning:
		return nil, fmt.Errorf("%w: transit key %s cannot sign", ErrKeyPolicy, name)
	}
	minVersion := max(tk.MinDecryptionVersion, tk.MinAvailableVersion, 1)
	type version struct {
		n       int
		created time.Time
		pub     crypto.PublicKey
	}
	var versions []version
	for s, k := range tk.Keys {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("transit key %s: version %q: %w", name, s, err)
		}
		if n < minVersion || n > tk.LatestVersion {
			continue
		}
		pub, err := parseTransitPublicKey(tk.Type, k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("transit key %s version %d: %w", name, n, err)
		}
		versions = append(versions, version{n, k.CreationTime, pub})
	}
	slices.SortFunc(versions, func(a, b version) int { return a.n - b.n })
	if len(versions) == 0 || versions[len(versions)-1].n != tk.LatestVersion {
		return nil, fmt.Errorf("transit key %s: latest version %d has no public key", name, tk.LatestVersion)
	}
	s := &transitState{fetched: t.cfg.Now(), latest: tk.LatestVersion, keys: make(map[int]Key, len(versions))}
	alg := EdDSA
	if tk.Type == TransitECDSAP256 {
		alg = ES256
	}
	for i, v := range versions {
		k := Key{ID: t.KeyID(v.n), Algorithm: alg, Public: v.pub}
		if i+1 < len(versions) {
			// Superseded when the next version was created.
			k.NotAfter = versions[i+1].created.Add(t.cfg.Retain)
		}
		s.keys[v.n] = k
	}
	return s, nil
}

// parseTransitPublicKey decodes a transit public key: base64 for ed25519,
// PEM PKIX for ecdsa-p256.
func parseTransitPublicKey(typ, s string) (crypto.PublicKey, error) {
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, errors.New("public key: bad PEM")
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		return checkPublic(typ, pub)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return checkPublic(typ, ed25519.PublicKey(raw))
}

func checkPublic(typ string, pub crypto.PublicKey) (crypto.PublicKey, error) {
	want := EdDSA
	if typ == TransitECDSAP256 {
		want = ES256
	}
	if err := jwk.CheckAlgorithm(want, pub); err != nil {
		return nil, fmt.Errorf("public key: %T does not match key type %s", pub, typ)
	}
	return pub, nil
}

// Healthy reads the key from Vault now, bypassing the cache, so that
// readiness reflects whether Vault can sign at this moment.
func (t *Transit) Healthy(ctx context.Context) error {
	t.refresh.Lock()
	defer t.refresh.Unlock()
	s, err := t.read(ctx)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("transit key %s/%s: not found", t.cfg.Mount, t.cfg.Key)
	}
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
	return nil
}

var _ HealthChecker = (*Transit)(nil)
