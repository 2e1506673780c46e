package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

func testTree(ran *[]string) *Command {
	return &Command{
		Name: "tool",
		Commands: []*Command{{
			Name:    "greet",
			Summary: "say hello",
			Usage:   "[--name NAME]",
			Flags: func(fs *flag.FlagSet) {
				fs.String("name", "world", "who to greet")
			},
			Run: func(_ context.Context, env Env, args []string) error {
				*ran = append(*ran, strings.Join(args, ","))
				if len(args) > 0 && args[0] == "fail" {
					return errors.New("boom")
				}
				if len(args) > 0 && args[0] == "exit3" {
					return &ExitError{Code: 3}
				}
				if len(args) > 0 && args[0] == "usage" {
					return Usagef("need fewer args")
				}
				return nil
			},
		}},
	}
}

func TestMain_ExitCodesAndHelp(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "no args prints help", args: nil, wantCode: 2, wantStderr: "Commands:"},
		{name: "root help", args: []string{"--help"}, wantCode: 0, wantStdout: "greet"},
		{name: "root version", args: []string{"--version"}, wantCode: 0, wantStdout: "tool "},
		{name: "unknown command", args: []string{"nope"}, wantCode: 2, wantStderr: `unknown command "nope"`},
		{name: "leaf help", args: []string{"greet", "--help"}, wantCode: 0, wantStdout: "who to greet"},
		{name: "leaf version", args: []string{"greet", "--version"}, wantCode: 0, wantStdout: "tool "},
		{name: "bad flag", args: []string{"greet", "--bogus"}, wantCode: 2, wantStderr: "flag provided but not defined"},
		{name: "ok", args: []string{"greet", "a", "b"}, wantCode: 0},
		{name: "error", args: []string{"greet", "fail"}, wantCode: 1, wantStderr: "tool: boom"},
		{name: "exit code", args: []string{"greet", "exit3"}, wantCode: 3},
		{name: "usage error", args: []string{"greet", "usage"}, wantCode: 2, wantStderr: "need fewer args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), testTree(&ran), Env{Stdout: &stdout, Stderr: &stderr}, tt.args)
			if code != tt.wantCode {
				t.Fatalf("code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
