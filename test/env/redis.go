package env

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a real redis-server on loopback, without persistence.
type RedisServer struct {
	Addr string // host:port
	bin  string
	dir  string
	port int
	proc *process
}

var redisOnce once[RedisServer]

// Redis returns the shared Redis server, starting it on first use.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	skipShort(t, "redis-server")
	r, err := redisOnce.get(startRedis)
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	printLogsOnFailure(t, r.proc)
	return r
}

func startRedis() (*RedisServer, error) {
	bin, err := Binary("REDIS_SERVER", "redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w (Debian: apt-get install -y redis-server)", err)
	}
	dir, err := tempDir("redis")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &RedisServer{Addr: net.JoinHostPort("127.0.0.1", itoa(port)), bin: bin, dir: dir, port: port}
	if err := r.start(); err != nil {
		return nil, err
	}
	onShutdown(func() { r.proc.stop() })
	return r, nil
}

func (r *RedisServer) start() error {
	p, err := startProcess("redis", r.dir, nil, r.bin,
		"--bind", "127.0.0.1", "--port", itoa(r.port), "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--daemonize", "no")
	if err != nil {
		return err
	}
	r.proc = p
	client := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer client.Close()
	return waitFor(p, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return client.Ping(ctx).Err()
	})
}

// Stop stops the server (for outage tests). Data is lost: there is no
// persistence.
func (r *RedisServer) Stop(t testing.TB) {
	t.Helper()
	r.proc.stop()
}

// Start starts a stopped server again on the same address.
func (r *RedisServer) Start(t testing.TB) {
	t.Helper()
	if !r.proc.exited() {
		return
	}
	if err := r.start(); err != nil {
		t.Fatalf("restart redis: %v", err)
	}
}

// Client returns a go-redis client for the server, closed when t ends.
func (r *RedisServer) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
