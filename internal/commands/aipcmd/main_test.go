package aipcmd

import (
	"os"
	"testing"

	"github.com/aip-project/aip/test/env"
)

// TestMain stops the components (Dex) the issuer tests started.
func TestMain(m *testing.M) { os.Exit(env.Main(m)) }
