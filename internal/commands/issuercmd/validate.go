package issuercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/issuer/config"
)

func validateCommand() *cli.Command {
	var path string
	return &cli.Command{
		Name:    "validate",
		Summary: "check a configuration file and print every problem",
		Usage:   "-config FILE",
		Help: `Validate reads the configuration strictly (unknown keys are errors) and
prints every problem with its key path. Exit status 0 when valid, 1 when not.
It reads token_file and password_file but never prints them.`,
		Flags: func(fs *flag.FlagSet) { fs.StringVar(&path, "config", "", "configuration `FILE` (YAML)") },
		Run: func(_ context.Context, env cli.Env, args []string) error {
			if path == "" || len(args) != 0 {
				return cli.Usagef("want -config FILE and no arguments")
			}
			cfg, err := config.Load(path)
			var verr *config.ValidationError
			if errors.As(err, &verr) {
				fmt.Fprintf(env.Stdout, "INVALID %s: %d problem(s)\n", path, len(verr.Problems))
				for _, p := range verr.Problems {
					fmt.Fprintf(env.Stdout, "  %s\n", p)
				}
				return &cli.ExitError{Code: 1}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "OK %s: issuer %s, signer %s, store %s, %d identity provider(s)\n",
				path, cfg.IssuerURL, cfg.Signer.Type, cfg.Store.Type, len(cfg.IdentityProviders))
			return nil
		},
	}
}
