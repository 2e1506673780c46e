package enforcercmd

import (
	"context"
	"flag"
	"fmt"

	"github.com/aip-project/aip/enforcer/policy"
	"github.com/aip-project/aip/enforcer/sidecar"
	"github.com/aip-project/aip/internal/cli"
)

func validateCommand() *cli.Command {
	var path string
	return &cli.Command{
		Name:    "validate",
		Summary: "check a serve configuration file and the policy it names",
		Usage:   "-config FILE",
		Help: `validate decodes the configuration strictly (unknown keys are errors), reports
every problem with its key path, and loads the policy it names (checking its
signature when policy.trusted_key is set). Exit status 1 on any problem.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&path, "config", "", "configuration `FILE` (YAML; required)")
		},
		Run: func(_ context.Context, env cli.Env, _ []string) error {
			if path == "" {
				return cli.Usagef("-config FILE is required")
			}
			cfg, err := sidecar.Load(path)
			if err != nil {
				return err
			}
			opts := policy.Options{}
			if cfg.TrustedKey != "" {
				if opts.TrustedKey, err = policy.ReadPublicKey(cfg.TrustedKey); err != nil {
					return fmt.Errorf("policy.trusted_key: %w", err)
				}
			}
			p, err := policy.Load(cfg.PolicyPath, opts)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "%s: valid (policy %q, hash %s)\n", path, p.Name(), p.Hash())
			return err
		},
	}
}
