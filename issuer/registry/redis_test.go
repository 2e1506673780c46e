package registry_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/registry/registrytest"
	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) { os.Exit(env.Main(m)) }

func newRedisStore(t *testing.T, c redis.UniversalClient, now func() time.Time) *registry.RedisStore {
	t.Helper()
	s, err := registry.NewRedis(registry.RedisConfig{Client: c, Prefix: "test:" + t.Name(), Now: now})
	if err != nil {
		t.Fatalf("NewRedis: %v", err)
	}
	return s
}

func TestRedisStoreConformance(t *testing.T) {
	r := env.Redis(t)
	registrytest.Run(t, func(t *testing.T, now func() time.Time) registry.Store {
		return newRedisStore(t, r.Client(t), now)
	})
}

// Two issuer replicas (two clients) see one registry and cannot both
// create the same agent.
func TestRedisStoreSharedByReplicas(t *testing.T) {
	r := env.Redis(t)
	ctx := context.Background()
	a := newRedisStore(t, r.Client(t), nil)
	b := newRedisStore(t, r.Client(t), nil)
	agent := registry.Agent{ID: "bot-1", PublicKey: registrytest.EdPublic("bot-1")}
	if _, err := a.Create(ctx, agent); err != nil {
		t.Fatalf("replica a Create: %v", err)
	}
	if _, err := b.Create(ctx, agent); !errors.Is(err, registry.ErrExists) {
		t.Fatalf("replica b Create = %v, want ErrExists", err)
	}
	if _, err := b.UpdateStatus(ctx, "bot-1", registry.StatusRevoked); err != nil {
		t.Fatalf("replica b revoke: %v", err)
	}
	got, err := a.Get(ctx, "bot-1")
	if err != nil || got.Status != registry.StatusRevoked {
		t.Fatalf("replica a sees %v, %v; want revoked", got, err)
	}
}

func TestRedisStoreUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there any more
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s := newRedisStore(t, c, nil)
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"create", func() error {
			_, err := s.Create(ctx, registry.Agent{ID: "a", SPIFFEID: "spiffe://x/a"})
			return err
		}},
		{"get", func() error { _, err := s.Get(ctx, "a"); return err }},
		{"list", func() error { _, err := s.List(ctx); return err }},
		{"update status", func() error { _, err := s.UpdateStatus(ctx, "a", registry.StatusSuspended); return err }},
		{"by spiffe id", func() error { _, err := s.GetBySPIFFEID(ctx, "spiffe://x/a"); return err }},
		{"by thumbprint", func() error { _, err := s.GetByThumbprint(ctx, "jkt"); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, registry.ErrUnavailable) {
				t.Fatalf("%s = %v, want ErrUnavailable", tt.name, err)
			}
		})
	}
}
