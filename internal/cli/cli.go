package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aip-project/aip/internal/version"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// OSEnv returns the process's standard streams.
func OSEnv() Env { return Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr} }

// Command is a node of the command tree. A command has either Run or
// Commands.
type Command struct {
	Name    string
	Summary string // one line, shown in the parent's help
	Usage   string // arguments after the name, e.g. "--policy FILE [--audit FILE]"
	Help    string // longer text shown by --help
	// Flags, when set, declares the command's flags on fs; Run receives the
	// positional arguments that remain.
	Flags    func(fs *flag.FlagSet)
	Run      func(ctx context.Context, env Env, args []string) error
	Commands []*Command
}

// ExitError carries a specific exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ErrUsage marks a command-line mistake; Main prints usage and exits 2.
var ErrUsage = errors.New("usage")

// Usagef returns an error wrapping ErrUsage.
func Usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

// Main runs the command tree on args (without the program name) and returns
// the process exit code.
func Main(ctx context.Context, root *Command, env Env, args []string) int {
	err := root.run(ctx, env, root.Name, args)
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(env.Stderr, "%s: %v\n", root.Name, exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintf(env.Stderr, "%s: %v\n", root.Name, err)
	if errors.Is(err, ErrUsage) {
		return 2
	}
	return 1
}

func (c *Command) run(ctx context.Context, env Env, path string, args []string) error {
	if c.Run == nil {
		if len(args) == 0 {
			c.printHelp(env.Stderr, path)
			return &ExitError{Code: 2}
		}
		switch args[0] {
		case "-h", "-help", "--help", "help":
			c.printHelp(env.Stdout, path)
			return nil
		case "-version", "--version", "version":
			fmt.Fprintf(env.Stdout, "%s %s\n", strings.Fields(path)[0], version.String())
			return nil
		}
		for _, sub := range c.Commands {
			if sub.Name == args[0] {
				return sub.run(ctx, env, path+" "+sub.Name, args[1:])
			}
		}
		c.printHelp(env.Stderr, path)
		return Usagef("unknown command %q", args[0])
	}

	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	showVersion := fs.Bool("version", false, "print the version and exit")
	if c.Flags != nil {
		c.Flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printCommandHelp(env.Stdout, path, fs)
			return nil
		}
		c.printCommandHelp(env.Stderr, path, fs)
		return Usagef("%v", err)
	}
	if *showVersion {
		fmt.Fprintf(env.Stdout, "%s %s\n", strings.Fields(path)[0], version.String())
		return nil
	}
	err := c.Run(ctx, env, fs.Args())
	if errors.Is(err, ErrUsage) {
		c.printCommandHelp(env.Stderr, path, fs)
	}
	return err
}

func (c *Command) printHelp(w io.Writer, path string) {
	if c.Help != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.Help))
	}
	fmt.Fprintf(w, "Usage:\n  %s <command> [flags] [args]\n\nCommands:\n", path)
	subs := append([]*Command(nil), c.Commands...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	for _, sub := range subs {
		fmt.Fprintf(w, "  %-14s %s\n", sub.Name, sub.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags; '%s --version' prints the version.\n", path, path)
}

func (c *Command) printCommandHelp(w io.Writer, path string, fs *flag.FlagSet) {
	if c.Help != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(c.Help))
	} else if c.Summary != "" {
		fmt.Fprintf(w, "%s\n\n", c.Summary)
	}
	fmt.Fprintf(w, "Usage:\n  %s %s\n", path, c.Usage)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}
