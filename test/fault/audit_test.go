package fault

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/stacktest"
)

// The real aip-enforcer (stdio, in front of server-everything) killed
// with SIGKILL while it writes its audit log under load. `aip audit
// verify` verifies the chain up to the last complete record; a record cut
// short is reported as such (exit 0, a note), not as tampering; an
// enforcer started again on the same file continues the chain.
func TestEnforcerKilledMidWrite(t *testing.T) {
	server := env.MCPServerCommand(t, env.MCPEverything, "stdio")
	bins := buildAIP(t)
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "audit.jsonl")

	e := startStdioEnforcer(t, bins, pol, log, server)
	go e.pump() // allowed and denied calls as fast as the enforcer reads them
	waitLines(t, log, 300)
	if err := syscall.Kill(e.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.wait()

	out, code := runAIP(t, bins, "audit", "verify", log)
	if code != 0 || !strings.HasPrefix(out, "OK ") {
		t.Fatalf("aip audit verify after SIGKILL: exit %d\n%s", code, out)
	}
	rep := verifyFile(t, log)
	t.Logf("after SIGKILL: %d records verify, incomplete tail: %v (%d bytes)", rep.Records, rep.IncompleteTail, rep.TailBytes)

	// Each record is one write call, so SIGKILL itself rarely leaves a
	// partial line. A crash of the machine (or a full disk) can: cut the
	// last record in the middle, as such a crash would.
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if rep.IncompleteTail {
		data = data[:len(data)-rep.TailBytes]
	}
	lastStart := bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	torn := data[:lastStart+(len(data)-lastStart)/2]
	if err := os.WriteFile(log, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	complete := rep.Records - 1 // the last complete record is now the torn one's predecessor
	t.Run("a torn last record is reported, not tampering", func(t *testing.T) {
		out, code := runAIP(t, bins, "audit", "verify", log)
		want := fmt.Sprintf("OK %s: %d record(s), last seq %d", log, complete, complete)
		if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "the last line is incomplete") {
			t.Fatalf("aip audit verify of a torn log: exit %d\n%s\nwant %q and the incomplete-line note", code, out, want)
		}
	})
	t.Run("tampering in the middle still fails", func(t *testing.T) {
		mid := filepath.Join(dir, "tampered.jsonl")
		altered := bytes.Replace(torn, []byte(`"decision":"BLOCK"`), []byte(`"decision":"ALLOW"`), 1)
		if bytes.Equal(altered, torn) {
			t.Fatal("no BLOCK record to alter")
		}
		if err := os.WriteFile(mid, altered, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, code := runAIP(t, bins, "audit", "verify", mid); code != 1 || !strings.HasPrefix(out, "FAIL ") || !strings.Contains(out, "altered") {
			t.Fatalf("aip audit verify of a log with a record altered: exit %d\n%s", code, out)
		}
	})

	t.Run("a restarted enforcer continues the chain", func(t *testing.T) {
		e := startStdioEnforcer(t, bins, pol, log, server)
		e.send(20)
		e.close()
		rep := verifyFile(t, log)
		if rep.IncompleteTail || rep.Records < complete+20 {
			t.Fatalf("after the restart: %d records (want at least %d), incomplete tail %v", rep.Records, complete+20, rep.IncompleteTail)
		}
		if out, code := runAIP(t, bins, "audit", "verify", log); code != 0 || strings.Contains(out, "incomplete") {
			t.Fatalf("aip audit verify after the restart: exit %d\n%s", code, out)
		}
	})
}

// stdioEnforcer is `aip-enforcer stdio` in front of server-everything.
type stdioEnforcer struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

func startStdioEnforcer(t *testing.T, bins, pol, log string, server []string) *stdioEnforcer {
	t.Helper()
	args := append([]string{"stdio", "--policy", pol, "--audit", log, "--"}, server...)
	cmd := exec.Command(filepath.Join(bins, "aip-enforcer"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stacktest.CaptureStderr(t, cmd) // logged after the cleanup below
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &stdioEnforcer{t: t, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the server too
		<-e.done
	})
	e.write(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fault","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return e
}

// call is the i-th request of the load: mostly allowed echo calls, some
// calls of a tool outside the policy.
func call(i int) string {
	if i%4 == 3 {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"delete_everything","arguments":{"n":%d}}}`, i+1, i)
	}
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":"call %d"}}}`, i+1, i)
}

func (e *stdioEnforcer) write(lines ...string) bool {
	for _, l := range lines {
		if _, err := io.WriteString(e.stdin, l+"\n"); err != nil {
			return false
		}
	}
	return true
}

// pump sends calls until the enforcer stops reading.
func (e *stdioEnforcer) pump() {
	for i := 0; e.write(call(i)); i++ {
	}
}

// send sends n calls.
func (e *stdioEnforcer) send(n int) {
	for i := range n {
		if !e.write(call(i)) {
			e.t.Fatal("aip-enforcer stopped reading")
		}
	}
}

// close ends the input, and waits for the enforcer to exit after it.
func (e *stdioEnforcer) close() {
	_ = e.stdin.Close()
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		e.t.Fatal("aip-enforcer did not exit 30s after its input ended")
	}
}

func (e *stdioEnforcer) wait() { <-e.done }

// waitLines waits until the file at path has n complete lines.
func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines after 60s, want %d", path, bytes.Count(b, []byte("\n")), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func verifyFile(t *testing.T, path string) audit.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := audit.Verify(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rep
}

// buildAIP returns a directory holding aip and aip-enforcer: $AIP_BIN
// when set (make builds bin/), else built here.
func buildAIP(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("AIP_BIN"); dir != "" {
		return dir
	}
	return stacktest.BuildCommands(t, "aip", "aip-enforcer")
}

// runAIP runs the aip CLI and returns its output and exit code.
func runAIP(t *testing.T, bins string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(filepath.Join(bins, "aip"), args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("aip %v: %v", args, err)
	return "", 0
}
