package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/registry"
)

const (
	localUser = "soak"
	agentID   = "soak-agent"
	audience  = "https://soak.mcp.test"
	// policy allows echo, add and write_note (with a path pattern and
	// exactly its two arguments); delete_all is in the token but not in
	// the policy.
	policy = `apiVersion: aip.io/v1alpha3
kind: AgentPolicy
metadata: {name: soak}
spec:
  allowed_tools: [echo, add, write_note]
  tool_rules:
    - tool: write_note
      allow_args:
        path: "^notes/[a-z0-9-]+\\.txt$"
        text: "(?s)^.{0,200}$"
      strict_args: true
  dlp:
    patterns:
      - name: aws
        regex: "AKIA[0-9A-Z]{16}"
`
)

// stack is everything a run starts; close stops it all.
type stack struct {
	dir       string
	redis     *process
	issuerURL string
	issuer    *issuer.Issuer
	stopIss   func() error
	key       *dpop.Key
	up        *upstream
	enforcer  *process
	enfURL    string
	auditPath string
	gc        *gcTrace
}

func startStack(ctx context.Context, cfg Config) (s *stack, err error) {
	s = &stack{dir: cfg.Dir}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.close())
			s = nil
		}
	}()
	if err := s.startRedis(cfg.RedisServer); err != nil {
		return s, err
	}
	if err := s.startIssuer(ctx); err != nil {
		return s, err
	}
	if s.up, err = startUpstream(); err != nil {
		return s, err
	}
	return s, s.startEnforcer(cfg.Enforcer)
}

func (s *stack) logFile(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	return f, nil
}

func (s *stack) startRedis(bin string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(addr)
	log, err := s.logFile("redis")
	if err != nil {
		return err
	}
	s.redis, err = startProcess("redis-server", log, os.Environ(), bin, "--bind", host, "--port", port,
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no")
	if err != nil {
		return err
	}
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer client.Close()
	return waitUntil(s.redis, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return client.Ping(ctx).Err()
	})
}

func (s *stack) redisAddr() string {
	args := s.redis.cmd.Args
	for i, a := range args {
		if a == "--port" && i+1 < len(args) {
			return "127.0.0.1:" + args[i+1]
		}
	}
	return ""
}

// startIssuer runs the issuer in this process: local key, file store, the
// local user, exactly as `aip-issuer serve` on one machine; it registers
// the agent with a native key.
func (s *stack) startIssuer(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	s.issuerURL = "http://" + ln.Addr().String()
	d := filepath.Join(s.dir, "issuer")
	cfg, err := config.Parse(fmt.Appendf(nil, `listen: %q
issuer_url: %q
audit: {path: %q}
signer: {type: local, key_file: %q}
store: {type: file, path: %q}
local_user: {enabled: true, user_id: %s}
`, ln.Addr().String(), s.issuerURL, filepath.Join(d, "audit.jsonl"), filepath.Join(d, "key.pem"), filepath.Join(d, "store"), localUser))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("issuer config: %w", err)
	}
	ictx, cancel := context.WithCancel(ctx)
	is, err := issuer.New(ictx, cfg, issuer.Options{})
	if err != nil {
		cancel()
		_ = ln.Close()
		return fmt.Errorf("issuer: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- is.Server.Serve(ictx, ln) }()
	s.issuer = is
	s.stopIss = func() error {
		cancel()
		return errors.Join(<-done, is.Close())
	}
	if s.key, err = dpop.NewKey(""); err != nil {
		return err
	}
	_, err = is.Registry().Create(ctx, registry.Agent{ID: agentID, PublicKey: &jose.JSONWebKey{Key: s.key.Public()},
		Capabilities: []string{"echo", "add", "write_note", "delete_all"}, AllowedUsers: []string{localUser}})
	if err != nil {
		return fmt.Errorf("register the agent: %w", err)
	}
	return nil
}

// startEnforcer runs the real aip-enforcer serve with Redis, with the Go
// runtime's GC trace on (the live heap after each collection).
func (s *stack) startEnforcer(bin string) error {
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	s.enfURL = "http://" + listen
	s.auditPath = filepath.Join(s.dir, "enforcer-audit.jsonl")
	pol := filepath.Join(s.dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o600); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	cfgPath := filepath.Join(s.dir, "enforcer.yaml")
	cfg := fmt.Sprintf(`listen: %q
upstream: {url: %q}
policy: {path: %q}
audit: {path: %q}
audience: %q
issuers: [{issuer: %q}]
tls: {mode: plain}
redis: {addrs: [%q], prefix: soak}
`, listen, s.up.url, pol, s.auditPath, audience, s.issuerURL, s.redisAddr())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("write enforcer config: %w", err)
	}
	log, err := s.logFile("enforcer")
	if err != nil {
		return err
	}
	s.gc = &gcTrace{}
	out := io.MultiWriter(log, s.gc)
	s.enforcer, err = startProcess("aip-enforcer", out, append(os.Environ(), "GODEBUG=gctrace=1"), bin, "serve", "-config", cfgPath)
	if err != nil {
		return err
	}
	return waitUntil(s.enforcer, 30*time.Second, func() error {
		resp, err := http.Get(s.enfURL + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %d", resp.StatusCode)
		}
		return nil
	})
}

// close stops everything, the enforcer first; errors of a component that
// did not stop cleanly are returned.
func (s *stack) close() error {
	var errs []error
	if s.enforcer != nil {
		if err := s.enforcer.stop(); err != nil {
			errs = append(errs, fmt.Errorf("aip-enforcer: %w", err))
		}
	}
	if s.up != nil {
		errs = append(errs, s.up.close())
	}
	if s.stopIss != nil {
		errs = append(errs, s.stopIss())
	}
	if s.redis != nil {
		_ = s.redis.stop() // redis exits 0 on SIGTERM; a kill is not the run's failure
	}
	return errors.Join(errs...)
}
