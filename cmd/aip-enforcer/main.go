// Command aip-enforcer; see internal/commands/enforcercmd for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/commands/enforcercmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, enforcercmd.Root(), cli.OSEnv(), os.Args[1:])
	stop()
	os.Exit(code)
}
