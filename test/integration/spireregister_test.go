package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aip-project/aip/test/env"
)

// deploy/spire/register.sh against the real SPIRE server: the entries it
// creates exist with the selectors of each mode, a second run updates
// them instead of adding copies, and bad input is refused before any call.
func TestSPIRERegisterScript(t *testing.T) {
	s := env.SPIREServer(t)
	r := registerScript{t: t, s: s, bin: componentBinary(t, "SPIRE_SERVER", "spire-server"),
		script: filepath.Join(repoDir(t), "deploy", "spire", "register.sh")}
	td := s.TrustDomain.Name()
	ids := []string{"aip-issuer", "aip-enforcer-reg-files", "aip-enforcer-reg-git", "aip-agent-reg-coder"}
	t.Cleanup(func() {
		for _, id := range ids {
			_, _ = r.spire("entry", "delete", "-entryID", id)
		}
	})

	t.Run("k8s selectors", func(t *testing.T) {
		out, err := r.run("--mode", "k8s", "--namespace", "aip-reg", "--agent-namespace", "agents-reg",
			"--issuer-dns", "issuer.aip.test", "--enforcer", "reg-files", "--enforcer", "reg-git", "--agent", "reg-coder")
		if err != nil {
			t.Fatalf("register.sh: %v\n%s", err, out)
		}
		if n := strings.Count(out, "created "); n != 4 {
			t.Fatalf("want 4 entries created, got %d:\n%s", n, out)
		}
		r.want(t, "aip-issuer", "/aip/issuer", []string{"k8s:ns:aip-reg", "k8s:sa:aip-issuer"}, "issuer.aip.test")
		r.want(t, "aip-enforcer-reg-files", "/aip/enforcer/reg-files", []string{"k8s:ns:aip-reg", "k8s:sa:reg-files"})
		r.want(t, "aip-enforcer-reg-git", "/aip/enforcer/reg-git", []string{"k8s:ns:aip-reg", "k8s:sa:reg-git"})
		r.want(t, "aip-agent-reg-coder", "/agent/reg-coder", []string{"k8s:ns:agents-reg", "k8s:sa:reg-coder"})
	})

	t.Run("a second run updates the same entries", func(t *testing.T) {
		out, err := r.run("--enforcer", "reg-files", "--enforcer", "reg-git=unix:uid:4242,unix:path:/usr/local/bin/aip-enforcer",
			"--agent", "reg-coder")
		if err != nil {
			t.Fatalf("register.sh: %v\n%s", err, out)
		}
		if n := strings.Count(out, "updated "); n != 4 || strings.Contains(out, "created ") {
			t.Fatalf("want 4 entries updated and none created:\n%s", out)
		}
		r.want(t, "aip-issuer", "/aip/issuer", []string{"unix:user:aip-issuer"})
		r.want(t, "aip-enforcer-reg-files", "/aip/enforcer/reg-files", []string{"unix:user:aip-enforcer"})
		r.want(t, "aip-enforcer-reg-git", "/aip/enforcer/reg-git", []string{"unix:path:/usr/local/bin/aip-enforcer", "unix:uid:4242"})
		r.want(t, "aip-agent-reg-coder", "/agent/reg-coder", []string{"unix:user:reg-coder"})
		for _, path := range []string{"/aip/issuer", "/agent/reg-coder"} {
			out, err := r.spire("entry", "show", "-spiffeID", "spiffe://"+td+path, "-parentID", s.NodeID.String(), "-output", "json")
			if err != nil {
				t.Fatal(err)
			}
			if n := len(decodeSPIREEntries(t, out)); n != 1 {
				t.Errorf("%s: %d entries under the node, want 1", path, n)
			}
		}
	})

	t.Run("bad input is refused", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			args []string
			want string
		}{
			{"no trust domain", []string{"--parent", s.NodeID.String()}, "--trust-domain is required"},
			{"no parent", []string{"--trust-domain", td}, "--parent is required"},
			{"parent in another trust domain", []string{"--trust-domain", td, "--parent", "spiffe://other.test/node"}, "in trust domain " + td},
			{"bad mode", []string{"--trust-domain", td, "--parent", s.NodeID.String(), "--mode", "docker"}, "want unix or k8s"},
			{"bad selector", []string{"--trust-domain", td, "--parent", s.NodeID.String(), "--no-issuer", "--agent", "x=uid1000"}, "want type:value"},
			{"bad name", []string{"--trust-domain", td, "--parent", s.NodeID.String(), "--enforcer", "a/b"}, "--enforcer a/b"},
			{"no server", []string{"--trust-domain", td, "--parent", s.NodeID.String(), "--socket", "/nonexistent.sock"}, "no spire-server API socket"},
			{"unknown flag", []string{"--trust-domain", td, "--parent", s.NodeID.String(), "--force"}, "unknown argument --force"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				out, err := exec.Command("bash", append([]string{r.script, "--server-bin", r.bin}, tt.args...)...).CombinedOutput()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), tt.want) {
					t.Fatalf("got %v:\n%s\nwant exit 2 and %q", err, out, tt.want)
				}
			})
		}
	})

	t.Run("dry run", func(t *testing.T) {
		out, err := r.run("--no-issuer", "--agent", "reg-dry", "--dry-run")
		if err != nil || !strings.Contains(out, "entry create -socketPath") || !strings.Contains(out, "-spiffeID spiffe://"+td+"/agent/reg-dry") {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		if out, err := r.spire("entry", "show", "-entryID", "aip-agent-reg-dry"); err == nil {
			t.Fatalf("the dry run created an entry:\n%s", out)
		}
	})
}

type registerScript struct {
	t           *testing.T
	s           *env.SPIRE
	bin, script string
}

// run runs register.sh against the test server under its node.
func (r registerScript) run(args ...string) (string, error) {
	base := []string{r.script, "--server-bin", r.bin, "--socket", r.s.ServerSocket,
		"--trust-domain", r.s.TrustDomain.Name(), "--parent", r.s.NodeID.String()}
	out, err := exec.Command("bash", append(base, args...)...).CombinedOutput()
	return string(out), err
}

// spire runs a spire-server command against the test server.
func (r registerScript) spire(args ...string) (string, error) {
	args = append(args[:2:2], append([]string{"-socketPath", r.s.ServerSocket}, args[2:]...)...)
	out, err := exec.Command(r.bin, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("spire-server %s: %w: %s", strings.Join(args[:2], " "), err, out)
	}
	return string(out), nil
}

// spireEntry is what the test reads of `spire-server entry show -output json`.
type spireEntry struct {
	ID       string `json:"id"`
	SPIFFEID struct {
		TrustDomain string `json:"trust_domain"`
		Path        string `json:"path"`
	} `json:"spiffe_id"`
	ParentID struct {
		Path string `json:"path"`
	} `json:"parent_id"`
	Selectors []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"selectors"`
	DNSNames []string `json:"dns_names"`
}

func decodeSPIREEntries(t *testing.T, out string) []spireEntry {
	t.Helper()
	var v struct {
		Entries []spireEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("entry show output: %v\n%s", err, out)
	}
	return v.Entries
}

// want checks the entry id: its SPIFFE ID path, parent, selectors (in
// any order) and DNS names.
func (r registerScript) want(t *testing.T, id, path string, selectors []string, dns ...string) {
	t.Helper()
	out, err := r.spire("entry", "show", "-entryID", id, "-output", "json")
	if err != nil {
		t.Fatal(err)
	}
	es := decodeSPIREEntries(t, out)
	if len(es) != 1 {
		t.Fatalf("entry %s: %d found", id, len(es))
	}
	e := es[0]
	var got []string
	for _, s := range e.Selectors {
		got = append(got, s.Type+":"+s.Value)
	}
	slices.Sort(got)
	selectors = slices.Sorted(slices.Values(selectors))
	if e.SPIFFEID.TrustDomain != r.s.TrustDomain.Name() || e.SPIFFEID.Path != path || e.ParentID.Path != r.s.NodeID.Path() ||
		!slices.Equal(got, selectors) || !slices.Equal(e.DNSNames, dns) {
		t.Errorf("entry %s: spiffe://%s%s parent %s selectors %v dns %v; want spiffe://%s%s parent %s selectors %v dns %v",
			id, e.SPIFFEID.TrustDomain, e.SPIFFEID.Path, e.ParentID.Path, got, e.DNSNames,
			r.s.TrustDomain.Name(), path, r.s.NodeID.Path(), selectors, dns)
	}
}
