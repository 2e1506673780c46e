package aipcmd

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/cli"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:    "audit",
		Summary: "work with hash-chained audit logs",
		Commands: []*cli.Command{{
			Name:    "verify",
			Summary: "check an audit log's hash chain",
			Usage:   "FILE",
			Help: `Verify checks the hash chain of an audit log and reports the first
altered, inserted, deleted or reordered record. Exit status: 0 when the
chain verifies (an incomplete last line from a crash is reported, not
failed), 1 with the finding printed otherwise.

Records cut from the end of a log leave no trace in it: compare the
printed head (last seq and hash) with a copy kept elsewhere.`,
			Run: runAuditVerify,
		}},
	}
}

func runAuditVerify(_ context.Context, env cli.Env, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("want exactly one FILE, got %d arguments", len(args))
	}
	f, err := os.Open(args[0])
	if err != nil {
		return fmt.Errorf("verify audit log: %w", err)
	}
	defer f.Close()
	rep, err := audit.Verify(f)
	var finding *audit.Finding
	switch {
	case errors.As(err, &finding):
		fmt.Fprintf(env.Stdout, "FAIL %s: %v\n", args[0], finding)
		fmt.Fprintf(env.Stdout, "  %d record(s) verified before it (last seq %d)\n", rep.Records, rep.LastSeq)
		return &cli.ExitError{Code: 1}
	case err != nil:
		return fmt.Errorf("verify audit log %s: %w", args[0], err)
	}
	fmt.Fprintf(env.Stdout, "OK %s: %d record(s), last seq %d, head %s\n", args[0], rep.Records, rep.LastSeq, rep.LastHash)
	if rep.IncompleteTail {
		fmt.Fprintf(env.Stdout, "  note: the last line is incomplete (%d bytes, no newline: a write cut short, e.g. by a crash); "+
			"it is not part of the chain, which verifies up to seq %d\n", rep.TailBytes, rep.LastSeq)
	}
	return nil
}
