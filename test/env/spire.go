package env

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// SPIRE is a real SPIRE server and agent (join-token attestation, unix
// workload attestor) with 500 ms sync intervals, so a new registration
// entry reaches a workload in about a second.
type SPIRE struct {
	TrustDomain  spiffeid.TrustDomain // aip.test
	WorkloadAddr string               // unix:///…/agent.sock, for workloadapi.WithAddr
	ServerSocket string               // the server API socket
	NodeID       spiffeid.ID          // the agent's ID, parent of entries
	// BundleEndpointURL is the server's SPIFFE bundle endpoint (profile
	// https_spiffe, served as ServerID); empty for the shared deployment.
	BundleEndpointURL string
	ServerID          spiffeid.ID // spiffe://<td>/spire/server
	serverBin         string
	server            *process
	agent             *process
}

var spireOnce once[SPIRE]

// SPIREServer returns the shared SPIRE deployment, starting it on first use.
func SPIREServer(t testing.TB) *SPIRE {
	t.Helper()
	skipShort(t, "spire-server and spire-agent")
	s, err := spireOnce.get(func() (*SPIRE, error) { return startSPIRE("aip.test", false) })
	if err != nil {
		t.Fatalf("spire: %v", err)
	}
	printLogsOnFailure(t, s.server, s.agent)
	return s
}

func startSPIRE(trustDomain string, bundleEndpoint bool) (*SPIRE, error) {
	serverBin, err := Binary("SPIRE_SERVER", "spire-server")
	if err != nil {
		return nil, err
	}
	agentBin, err := Binary("SPIRE_AGENT", "spire-agent")
	if err != nil {
		return nil, err
	}
	dir, err := tempDir("spire")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	td, err := spiffeid.TrustDomainFromString(trustDomain)
	if err != nil {
		return nil, fmt.Errorf("spire trust domain: %w", err)
	}
	bundlePort := 0
	if bundleEndpoint {
		if bundlePort, err = freePort(); err != nil {
			return nil, err
		}
	}
	s := &SPIRE{
		TrustDomain:  td,
		ServerSocket: filepath.Join(dir, "server.sock"),
		WorkloadAddr: "unix://" + filepath.Join(dir, "agent.sock"),
		NodeID:       spiffeid.RequireFromPath(td, "/node/test"),
		ServerID:     spiffeid.RequireFromPath(td, "/spire/server"),
		serverBin:    serverBin,
	}
	if bundlePort != 0 {
		s.BundleEndpointURL = fmt.Sprintf("https://127.0.0.1:%d", bundlePort)
	}
	if err := writeSPIREConfigs(dir, td.Name(), port, bundlePort, s.ServerSocket); err != nil {
		return nil, err
	}
	s.server, err = startProcess("spire-server", dir, nil, serverBin, "run", "-config", filepath.Join(dir, "server.conf"))
	if err != nil {
		return nil, err
	}
	onShutdown(s.server.stop)
	err = waitFor(s.server, 30*time.Second, func() error {
		_, err := s.run("healthcheck", "-socketPath", s.ServerSocket)
		return err
	})
	if err != nil {
		return nil, err
	}
	out, err := s.run("token", "generate", "-socketPath", s.ServerSocket, "-spiffeID", s.NodeID.String(), "-ttl", "600")
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "Token:"))
	s.agent, err = startProcess("spire-agent", dir, nil, agentBin, "run", "-config", filepath.Join(dir, "agent.conf"), "-joinToken", token)
	if err != nil {
		return nil, err
	}
	onShutdown(s.agent.stop)
	err = waitFor(s.agent, 30*time.Second, func() error {
		cmd := exec.Command(agentBin, "healthcheck", "-socketPath", filepath.Join(dir, "agent.sock"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("agent healthcheck: %w: %s", err, bytes.TrimSpace(out))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func writeSPIREConfigs(dir, td string, port, bundlePort int, serverSocket string) error {
	federation := ""
	if bundlePort != 0 {
		federation = fmt.Sprintf(`
  federation {
    bundle_endpoint {
      address = "127.0.0.1"
      port = %d
      refresh_hint = "5s"
    }
  }`, bundlePort)
	}
	server := fmt.Sprintf(`server {
  bind_address = "127.0.0.1"
  bind_port = "%d"
  socket_path = %q
  trust_domain = %q
  data_dir = %q
  log_level = "INFO"
  ca_ttl = "24h"
  default_x509_svid_ttl = "1h"
  default_jwt_svid_ttl = "5m"
  experimental {
    cache_reload_interval = "500ms"
  }%s
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = %q
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
}
`, port, serverSocket, td, filepath.Join(dir, "server-data"), federation, filepath.Join(dir, "server-data", "datastore.sqlite3"))
	agent := fmt.Sprintf(`agent {
  data_dir = %q
  log_level = "INFO"
  server_address = "127.0.0.1"
  server_port = "%d"
  socket_path = %q
  trust_domain = %q
  insecure_bootstrap = true
  experimental {
    sync_interval = "500ms"
  }
}
plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
`, filepath.Join(dir, "agent-data"), port, filepath.Join(dir, "agent.sock"), td)
	if err := os.WriteFile(filepath.Join(dir, "server.conf"), []byte(server), 0o600); err != nil {
		return fmt.Errorf("write spire server config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "agent.conf"), []byte(agent), 0o600); err != nil {
		return fmt.Errorf("write spire agent config: %w", err)
	}
	return nil
}

// run runs a spire-server CLI command and returns its output.
func (s *SPIRE) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.serverBin, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("spire-server %s: %w: %s", args[0], err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

var entryIDRe = regexp.MustCompile(`Entry ID\s*:\s*(\S+)`)

// CreateEntry registers a workload entry for id under the test node and
// waits until this process receives its X509-SVID and JWT-SVID through the
// Workload API. The default selector is this process's uid; pass selectors
// ("unix:uid:1000", "unix:path:/bin/x") to tell workloads apart. The entry
// is deleted when t ends.
func (s *SPIRE) CreateEntry(t testing.TB, id spiffeid.ID, selectors ...string) {
	t.Helper()
	s.CreateEntryTTL(t, id, 0, selectors...)
}

// CreateEntryTTL is CreateEntry with the lifetime of the entry's
// X509-SVIDs (whole seconds; zero: the server's default of 1h). The SPIRE
// agent renews an SVID when half of its lifetime has passed.
func (s *SPIRE) CreateEntryTTL(t testing.TB, id spiffeid.ID, x509TTL time.Duration, selectors ...string) {
	t.Helper()
	s.createEntry(t, id, x509TTL, nil, selectors)
}

func (s *SPIRE) createEntry(t testing.TB, id spiffeid.ID, x509TTL time.Duration, federatesWith []spiffeid.TrustDomain, selectors []string) {
	t.Helper()
	if len(selectors) == 0 {
		selectors = []string{fmt.Sprintf("unix:uid:%d", os.Getuid())}
	}
	args := []string{"entry", "create", "-socketPath", s.ServerSocket, "-parentID", s.NodeID.String(), "-spiffeID", id.String()}
	for _, sel := range selectors {
		args = append(args, "-selector", sel)
	}
	if x509TTL > 0 {
		args = append(args, "-x509SVIDTTL", strconv.Itoa(int(x509TTL/time.Second)))
	}
	for _, td := range federatesWith {
		args = append(args, "-federatesWith", td.IDString())
	}
	out, err := s.run(args...)
	if err != nil {
		t.Fatal(err)
	}
	m := entryIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("spire-server entry create: no entry id in output:\n%s", out)
	}
	t.Cleanup(func() {
		if _, err := s.run("entry", "delete", "-socketPath", s.ServerSocket, "-entryID", m[1]); err != nil {
			t.Logf("delete spire entry: %v", err)
		}
	})
	if selectors[0] == fmt.Sprintf("unix:uid:%d", os.Getuid()) {
		s.WaitForSVID(t, id)
	}
}

// WaitForSVID waits until the Workload API serves id to this process.
func (s *SPIRE) WaitForSVID(t testing.TB, id spiffeid.ID) {
	t.Helper()
	s.waitWorkload(t, fmt.Sprintf("X509-SVID for %s", id), 20*time.Second, func(ctx context.Context, c *workloadapi.Client) (bool, error) {
		svids, err := c.FetchX509SVIDs(ctx)
		return err == nil && slices.ContainsFunc(svids, func(sv *x509svid.SVID) bool { return sv.ID == id }), err
	})
}

// waitWorkload polls the Workload API every 100 ms until ready reports
// true, and fails t with what after timeout.
func (s *SPIRE) waitWorkload(t testing.TB, what string, timeout time.Duration, ready func(context.Context, *workloadapi.Client) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr(s.WorkloadAddr))
	if err != nil {
		t.Fatalf("workload api client: %v", err)
	}
	defer client.Close()
	for {
		ok, err := ready(ctx, client)
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s from the %s Workload API after %s (last error: %v)", what, s.TrustDomain, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RestartAgent stops and starts the SPIRE agent (for fault tests) and
// waits until it is healthy. Its key was in memory, so it attests again,
// with a new join token (a token is used once) aliased to the same NodeID.
func (s *SPIRE) RestartAgent(t testing.TB) {
	t.Helper()
	args := slices.Clone(s.agent.cmd.Args)
	s.agent.stop()
	out, err := s.run("token", "generate", "-socketPath", s.ServerSocket, "-spiffeID", s.NodeID.String(), "-ttl", "600")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.Index(args, "-joinToken"); i >= 0 && i+1 < len(args) {
		args[i+1] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "Token:"))
	}
	p, err := startProcess("spire-agent", s.agent.cmd.Dir, nil, args[0], args[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	s.agent = p
	onShutdown(p.stop)
	sock := strings.TrimPrefix(s.WorkloadAddr, "unix://")
	err = waitFor(p, 30*time.Second, func() error {
		if out, err := exec.Command(args[0], "healthcheck", "-socketPath", sock).CombinedOutput(); err != nil {
			return fmt.Errorf("agent healthcheck: %w: %s", err, bytes.TrimSpace(out))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("restart spire agent: %v", err)
	}
}
