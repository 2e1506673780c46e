package load

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aip-project/aip/test/env"
)

// A few seconds of the real generator against the real stack, at a low
// rate, so that `make soak` cannot rot: every call answers as the policy
// says, the report is complete, the audit chain verifies.
func TestShortRun(t *testing.T) {
	redisBin := env.RedisServerBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Rate: 40, Duration: 3 * time.Second, Concurrency: 8, Sessions: 2,
		SampleEvery: time.Second, Warmup: time.Second, Enforcer: enforcerBinary(t), RedisServer: redisBin})
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	if err := WriteReport(&report, res); err != nil {
		t.Fatal(err)
	}
	if f := res.Failures(); len(f) > 0 {
		t.Fatalf("short run failed: %v\n%s", f, report.String())
	}
	// 120 calls: the mix exactly, each answered.
	want := map[string]int{outcomeAllowed: 96, outcomeListed: 12, outcomeDenied: 12}
	for k, n := range want {
		if res.Outcomes[k] != n {
			t.Errorf("%s: %d calls, want %d\n%s", k, res.Outcomes[k], n, report.String())
		}
	}
	if res.Latency.N != 120 || res.AuditRecords < 120 || len(res.Memory) < 2 || res.Memory[0].RSS <= 0 {
		t.Errorf("n=%d audit=%d memory samples=%d\n%s", res.Latency.N, res.AuditRecords, len(res.Memory), report.String())
	}
	for _, s := range []string{"**PASS**", "| all | 120 |", "p99.9", "| allowed | 96 |", "chain verified: true"} {
		if !strings.Contains(report.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, report.String())
		}
	}
}

// enforcerBinary is $AIP_BIN/aip-enforcer (make builds bin/), else built.
func enforcerBinary(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("AIP_BIN"); dir != "" {
		return filepath.Join(dir, "aip-enforcer")
	}
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "aip-enforcer")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/aip-enforcer")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
