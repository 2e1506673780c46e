package integration

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The units in deploy/systemd run the real commands: every Exec line,
// with its ${VARIABLES} expanded as systemd would, names a built binary
// and only flags its subcommand accepts; the validate lines pass on the
// reference configs; and systemd-analyze verify (where systemd is
// installed) finds nothing to say.
func TestSystemdUnits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands; run without -short")
	}
	repo := repoDir(t)
	bin := buildCommands(t)
	units, err := filepath.Glob(filepath.Join(repo, "deploy", "systemd", "*.service"))
	if err != nil || len(units) < 2 {
		t.Fatalf("units in deploy/systemd: %v %v", units, err)
	}
	// The env file may point a unit at another config: the tests' own.
	overrides := map[string]string{
		"AIP_ISSUER_CONFIG":   filepath.Join(repo, "deploy", "issuer.yaml"),
		"AIP_ENFORCER_CONFIG": refEnforcerConfig(t, repo),
	}
	for _, path := range units {
		t.Run(filepath.Base(path), func(t *testing.T) {
			u := parseSystemdUnit(t, path)
			if len(u.exec) == 0 {
				t.Fatal("no Exec lines")
			}
			for key, want := range map[string]string{"User": "", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
				"ProtectHome": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": "", "Restart": "on-failure",
				"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "SystemCallFilter": "@system-service"} {
				got, ok := u.service[key]
				if !ok || (want != "" && !strings.Contains(strings.Join(got, "\n"), want)) || (key == "User" && got[0] == "") {
					t.Errorf("[Service] %s = %q, want %q", key, got, want)
				}
			}
			for _, line := range u.exec {
				args := u.expand(t, line, overrides)
				checkUnitExec(t, bin, args)
			}
		})
	}
	t.Run("systemd-analyze verify", func(t *testing.T) {
		analyze, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Log("systemd-analyze is not installed: the units were checked by the subtests above only")
			return
		}
		dir := t.TempDir()
		var names []string
		for _, path := range units {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(path)
			b = bytes.ReplaceAll(b, []byte("/usr/local/bin/"), []byte(bin+"/"))
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, "@.service") { // a template: verify an instance
				inst := strings.Replace(name, "@.service", "@files.service", 1)
				if err := os.Symlink(name, filepath.Join(dir, inst)); err != nil {
					t.Fatal(err)
				}
				name = inst
			}
			names = append(names, "./"+name)
		}
		cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, names...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}

// systemdUnit is what the test reads of a unit file.
type systemdUnit struct {
	name    string
	service map[string][]string // [Service] key -> values, in order
	exec    []string            // ExecStartPre, ExecStart, ... command lines
}

func parseSystemdUnit(t *testing.T, path string) systemdUnit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	u := systemdUnit{name: filepath.Base(path), service: map[string][]string{}}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || strings.HasSuffix(line, "\\") {
				t.Fatalf("%s:%d: want KEY=value on one line: %q", u.name, n, line)
			}
			if section != "Service" {
				continue
			}
			u.service[key] = append(u.service[key], value)
			if strings.HasPrefix(key, "Exec") {
				u.exec = append(u.exec, value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

var systemdVar = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// expand splits an Exec line and expands its variables as systemd does:
// specifiers (%i: instance "files"), then Environment= values, here with
// the overrides an env file would set.
func (u systemdUnit) expand(t *testing.T, line string, overrides map[string]string) []string {
	t.Helper()
	env := map[string]string{}
	for _, kv := range u.service["Environment"] {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = strings.ReplaceAll(v, "%i", "files")
	}
	if strings.ContainsAny(line, `"'\`) {
		t.Fatalf("%s: keep Exec lines free of quoting so this test reads them as systemd does: %q", u.name, line)
	}
	var args []string
	for _, f := range strings.Fields(strings.ReplaceAll(line, "%i", "files")) {
		args = append(args, systemdVar.ReplaceAllStringFunc(f, func(m string) string {
			name := strings.Trim(m, "${}")
			if _, ok := env[name]; !ok {
				t.Fatalf("%s: %s is not set by an Environment= line", u.name, m)
			}
			if v, ok := overrides[name]; ok {
				return v
			}
			return env[name]
		}))
	}
	return args
}

// checkUnitExec runs one Exec line's command with the binaries in bin.
func checkUnitExec(t *testing.T, bin string, args []string) {
	t.Helper()
	prog, ok := strings.CutPrefix(args[0], "/usr/local/bin/")
	if !ok || len(args) < 2 {
		t.Fatalf("%q: want /usr/local/bin/<command> <subcommand> ...", args)
	}
	path := filepath.Join(bin, prog)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not one of the aip commands: %v", prog, err)
	}
	sub, flags := args[1], args[2:]
	// Every flag is one the subcommand lists in its help.
	help, err := exec.Command(path, sub, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s --help: %v\n%s", prog, sub, err, help)
	}
	for _, f := range flags {
		if name, ok := strings.CutPrefix(f, "-"); ok {
			name = strings.TrimPrefix(strings.SplitN(name, "=", 2)[0], "-")
			if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(name) + `\b`).Match(help) {
				t.Errorf("%s %s: flag %s is not in its --help:\n%s", prog, sub, f, help)
			}
		}
	}
	// serve and validate take the same flags: validate runs the line
	// without starting a server.
	out, err := exec.Command(path, append([]string{"validate"}, flags...)...).CombinedOutput()
	if err != nil {
		t.Errorf("%s validate %s (the flags of %s): %v\n%s", prog, strings.Join(flags, " "), sub, err, out)
	}
}

// refEnforcerConfig is deploy/enforcer.yaml with its example policy path
// replaced by a real policy, so that validate can load it.
func refEnforcerConfig(t *testing.T, repo string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "deploy", "enforcer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const example = "path: deploy/examples/policy.yaml"
	if !bytes.Contains(b, []byte(example)) {
		t.Fatalf("deploy/enforcer.yaml no longer has %q: update this test", example)
	}
	b = bytes.Replace(b, []byte(example), []byte("path: "+filepath.Join(repo, "examples", "policies", "filesystem.yaml")), 1)
	path := filepath.Join(t.TempDir(), "files.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
