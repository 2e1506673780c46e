package issuer

import (
	"crypto/tls"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/internal/revocation"
	"github.com/aip-project/aip/issuer/binding"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/registry"
)

// stores are the registry, revocations and DPoP jti cache of one backend.
type stores struct {
	registry    registry.Store
	revocations revocation.Store
	replay      nonce.Store
	bindings    binding.Store
	close       func() error
}

// openStores opens the backend chosen by c.Type.
func openStores(c config.Store, now func() time.Time) (*stores, error) {
	switch c.Type {
	case config.StoreTypeRedis:
		opts := &redis.UniversalOptions{Addrs: c.Addrs, Username: c.Username, Password: c.Password, DB: c.DB,
			MasterName: c.MasterName, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}
		if c.TLS {
			opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		client := redis.NewUniversalClient(opts)
		reg, err := registry.NewRedis(registry.RedisConfig{Client: client, Prefix: c.Prefix + ":registry", Now: now})
		if err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis registry: %w", err)
		}
		revs, err := revocation.NewRedis(revocation.RedisConfig{Client: client, Prefix: c.Prefix + ":revocations",
			Channel: c.Prefix + ":revocations", Now: now})
		if err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis revocations: %w", err)
		}
		// The key of a proof is <prefix>:jti:dpop:<jkt>:<jti>, as before
		// the issuer shared the enforcer's nonce store.
		replay, err := nonce.NewRedis(nonce.RedisConfig{Client: client, Prefix: c.Prefix + ":jti:"})
		if err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis dpop replay cache: %w", err)
		}
		binds, err := binding.NewRedis(binding.RedisConfig{Client: client, Prefix: c.Prefix + ":bindings", Now: now})
		if err != nil {
			_ = client.Close()
			return nil, fmt.Errorf("redis bindings: %w", err)
		}
		return &stores{registry: reg, revocations: revs, replay: replay, bindings: binds, close: client.Close}, nil
	default:
		if err := os.MkdirAll(c.Path, 0o700); err != nil {
			return nil, fmt.Errorf("store directory: %w", err)
		}
		reg, err := registry.OpenFile(registry.FileConfig{Path: storeDir(c, "registry.json"), Now: now})
		if err != nil {
			return nil, fmt.Errorf("file registry: %w", err)
		}
		revs, err := revocation.NewLocal(revocation.LocalConfig{Path: storeDir(c, "revocations.json"), Now: now})
		if err != nil {
			return nil, fmt.Errorf("file revocations: %w", err)
		}
		binds, err := binding.OpenFile(binding.FileConfig{Path: storeDir(c, "bindings.json"), Now: now})
		if err != nil {
			return nil, fmt.Errorf("file bindings: %w", err)
		}
		return &stores{registry: reg, revocations: revs, replay: nonce.NewMemory(nonce.MemoryConfig{Now: now}), bindings: binds, close: func() error { return nil }}, nil
	}
}
