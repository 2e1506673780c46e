// Package version holds the build version of the aip binaries.
//
// The Makefile sets Version with -ldflags; a plain `go build` reports the
// module version recorded by the Go toolchain, or "dev".
package version

import "runtime/debug"

// Version is overridden at link time:
// -ldflags "-X github.com/aip-project/aip/internal/version.Version=v1.2.3".
var Version = ""

// String returns the version of the running binary.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
