package fault

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/aip-project/aip/test/env"
)

func TestMain(m *testing.M) {
	// go-redis logs every failed dial to stderr: hundreds of lines while
	// Redis is down. The tests count the outcomes instead.
	redis.SetLogger(quiet{})
	os.Exit(env.Main(m))
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
