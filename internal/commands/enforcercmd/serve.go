package enforcercmd

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"

	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/internal/cli"
)

func serveCommand() *cli.Command {
	var path string
	return &cli.Command{
		Name:    "serve",
		Summary: "run the enforcer as a sidecar in front of an MCP server (Streamable HTTP or stdio)",
		Usage:   "-config FILE",
		Help: `serve is a reverse proxy in front of one MCP server: a Streamable HTTP
endpoint (upstream.url), or a stdio server it starts and serves as
Streamable HTTP (upstream.command). Every request must carry an Agent
Authentication Token and, by default, a DPoP proof; the token's issuer, audience, lifetime, policy hash, binding (mTLS
SVID and DPoP key), nonce and revocations are checked, then the AgentPolicy,
DLP and audit decide it. Listens with SPIFFE mTLS, or plain HTTP on loopback.

See deploy/enforcer.yaml for the configuration. SIGINT/SIGTERM stop it
gracefully; the policy is reloaded when its file changes.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&path, "config", "", "configuration `FILE` (YAML; required)")
		},
		Run: func(ctx context.Context, env cli.Env, _ []string) error {
			if path == "" {
				return cli.Usagef("-config FILE is required")
			}
			cfg, err := sidecar.Load(path)
			if err != nil {
				return err
			}
			log := slog.New(slog.NewJSONHandler(env.Stderr, nil)).With("component", "aip-enforcer")
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			srv, err := sidecar.New(ctx, cfg, sidecar.Options{Logger: log, Stderr: env.Stderr})
			if err != nil {
				return fmt.Errorf("refusing to start: %w", err)
			}
			defer func() { _ = srv.Close() }()
			ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			upstream := cfg.UpstreamURL
			if len(cfg.UpstreamCommand) > 0 {
				upstream = "stdio: " + cfg.UpstreamCommand[0]
			}
			log.Info("serving", "listen", ln.Addr().String(), "upstream", upstream, "tls", cfg.TLS.Mode, "redis", cfg.Redis != nil)
			return srv.Serve(ctx, ln)
		},
	}
}
