// Command aip-load is the soak load generator (`make soak`): see package
// github.com/aip-project/aip/test/load and docs/soak.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/aip-project/aip/test/load"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg := load.Defaults
	var (
		report     string
		growthMiB  int64
		redisFound = os.Getenv("REDIS_SERVER")
	)
	if redisFound == "" {
		redisFound, _ = exec.LookPath("redis-server")
	}
	flag.IntVar(&cfg.Rate, "rate", cfg.Rate, "calls scheduled per second (open loop)")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long calls are scheduled")
	flag.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "most calls in flight")
	flag.IntVar(&cfg.Sessions, "sessions", cfg.Sessions, "MCP sessions the calls are spread over")
	flag.DurationVar(&cfg.SampleEvery, "sample", cfg.SampleEvery, "interval of the enforcer's memory samples")
	flag.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "memory must stay flat after this much of the run")
	flag.Int64Var(&growthMiB, "max-growth-mib", cfg.MaxGrowthBytes>>20, "RSS growth after the warm-up allowed, in MiB (or -max-growth-ratio, whichever is larger)")
	flag.Float64Var(&cfg.MaxGrowthRatio, "max-growth-ratio", cfg.MaxGrowthRatio, "RSS growth after the warm-up allowed, as a fraction of the RSS then")
	flag.StringVar(&cfg.Enforcer, "enforcer", "bin/aip-enforcer", "the aip-enforcer `binary`")
	flag.StringVar(&cfg.RedisServer, "redis-server", redisFound, "the redis-server `binary` (default $REDIS_SERVER or PATH)")
	flag.StringVar(&report, "report", "", "write the Markdown report to `FILE` too")
	flag.BoolVar(&cfg.KeepDir, "keep", false, "keep the run's directory (configs, logs, audit log)")
	flag.Parse()
	cfg.MaxGrowthBytes = growthMiB << 20

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if res != nil {
		if werr := load.WriteReport(os.Stdout, res); werr != nil {
			fmt.Fprintln(os.Stderr, "aip-load:", werr)
			return 1
		}
		if report != "" {
			f, ferr := os.Create(report)
			if ferr == nil {
				ferr = load.WriteReport(f, res)
				if cerr := f.Close(); ferr == nil {
					ferr = cerr
				}
			}
			if ferr != nil {
				fmt.Fprintln(os.Stderr, "aip-load: write report:", ferr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aip-load:", err)
		return 1
	}
	if f := res.Failures(); len(f) > 0 {
		fmt.Fprintln(os.Stderr, "aip-load: FAIL:", f)
		return 1
	}
	return 0
}
