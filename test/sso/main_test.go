// Package sso tests the SSO binding flow end to end: a real issuer, a real
// Dex and headless Chromium (Debian's chromium package) driving the pages
// as a person would.
package sso

import (
	"os"
	"testing"

	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) { os.Exit(env.Main(m)) }
