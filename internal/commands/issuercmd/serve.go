package issuercmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
)

func serveCommand() *cli.Command {
	var path string
	return &cli.Command{
		Name:    "serve",
		Summary: "run the token issuer and agent registry",
		Usage:   "-config FILE",
		Help: `Serve runs the issuer: POST /v1/token (RFC 8693), /.well-known/jwks.json,
/.well-known/oauth-authorization-server, /v1/agents, /v1/revocations,
/healthz, /readyz and /metrics; with admins.socket, the admin routes also on
that Unix socket, to the allowed local uids. SIGINT or SIGTERM shuts it down
gracefully.`,
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&path, "config", "", "configuration `FILE` (YAML)") },
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if path == "" || len(args) != 0 {
				return cli.Usagef("want -config FILE and no arguments")
			}
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			logger := newLogger(env.Stderr, cfg.Log)
			is, err := issuer.New(ctx, cfg, issuer.Options{Logger: logger})
			if err != nil {
				return fmt.Errorf("start issuer: %w", err)
			}
			defer is.Close()
			return is.Run(ctx)
		},
	}
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
