// Package cli is the small command tree shared by the aip binaries: nested
// subcommands, --help and --version, and one exit-code convention.
//
// It owns parsing of the command line only. It never reads configuration
// files and never prints secrets: commands get their streams from Env.
package cli
