// Command aip; see internal/commands/aipcmd for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/commands/aipcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, aipcmd.Root(), cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
