package integration

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"gopkg.in/yaml.v3"
)

// What can be checked of the images without a Docker engine: `make
// image-context` stages static binaries; every COPY source of the
// Dockerfile is in that context; each target's files, laid out as the
// image would have them, run with nothing else (chroot, uid 65532, as
// root only); and `make image` tags the names the Helm chart points at.
func TestImageContext(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the commands; run without -short")
	}
	repo := repoDir(t)
	ctxDir := filepath.Join(t.TempDir(), "image")
	if out, err := exec.Command("make", "-s", "-C", repo, "image-context", "IMAGE_CONTEXT="+ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("make image-context: %v\n%s", err, out)
	}
	for _, name := range []string{"aip", "aip-issuer", "aip-enforcer"} {
		f, err := elf.Open(filepath.Join(ctxDir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s is dynamically linked (program header %v): FROM scratch has no libc", name, p.Type)
			}
		}
		_ = f.Close()
	}

	stages := parseDockerfile(t, filepath.Join(repo, "Dockerfile"))
	for _, target := range []string{"aip-issuer", "aip-enforcer"} {
		t.Run(target, func(t *testing.T) {
			files := stages.files(t, target)
			root := t.TempDir()
			for dst, src := range files {
				b, err := os.ReadFile(filepath.Join(ctxDir, src))
				if err != nil {
					t.Fatalf("COPY %s: not in the context: %v", src, err)
				}
				if err := os.MkdirAll(filepath.Join(root, filepath.Dir(dst)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, dst), b, 0o755); err != nil { //nolint:gosec // an image's binaries
					t.Fatal(err)
				}
			}
			if _, ok := files["/usr/local/bin/"+target]; !ok {
				t.Fatalf("target %s has no /usr/local/bin/%s: %v", target, target, files)
			}
			if os.Geteuid() != 0 {
				t.Log("not root: the image's files were not run in a chroot")
				return
			}
			cmd := exec.Command("/usr/local/bin/"+target, "--version")
			cmd.Env = []string{"PATH=/usr/local/bin"}
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
			cmd.Dir = "/"
			if out, err := cmd.CombinedOutput(); err != nil || len(out) == 0 {
				t.Fatalf("%s --version in a chroot of the image's files, uid 65532: %v\n%s", target, err, out)
			}
		})
	}

	t.Run("the chart's image names", func(t *testing.T) {
		out, err := exec.Command("make", "-s", "-n", "-C", repo, "image").CombinedOutput()
		if err != nil {
			t.Fatalf("make -n image: %v\n%s", err, out)
		}
		var values struct {
			Issuer struct {
				Image struct{ Repository, Tag string }
			}
			Enforcer struct {
				Image struct{ Repository, Tag string }
			}
		}
		readYAMLFile(t, filepath.Join(repo, "deploy", "helm", "aip", "values.yaml"), &values)
		var chart struct {
			AppVersion string `yaml:"appVersion"`
		}
		readYAMLFile(t, filepath.Join(repo, "deploy", "helm", "aip", "Chart.yaml"), &chart)
		tags := regexp.MustCompile(`-t (\S+)/\$t:(\S+)`).FindStringSubmatch(string(out))
		if tags == nil {
			t.Fatalf("no docker build -t in make -n image:\n%s", out)
		}
		for name, img := range map[string]struct{ Repository, Tag string }{"aip-issuer": values.Issuer.Image, "aip-enforcer": values.Enforcer.Image} {
			tag := img.Tag
			if tag == "" {
				tag = chart.AppVersion
			}
			if got := tags[1] + "/" + name + ":" + tags[2]; got != img.Repository+":"+tag {
				t.Errorf("make image builds %s; the chart runs %s:%s", got, img.Repository, tag)
			}
		}
	})
}

// dockerfile maps each stage to its parent stage and its COPY lines.
type dockerfile map[string]struct {
	from  string
	copys [][]string // sources..., destination
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	d := dockerfile{}
	stage := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "FROM":
			if len(fields) != 4 || !strings.EqualFold(fields[2], "AS") {
				t.Fatalf("want FROM <image> AS <name>: %q", sc.Text())
			}
			stage = fields[3]
			d[stage] = struct {
				from  string
				copys [][]string
			}{from: fields[1]}
		case "COPY":
			s := d[stage]
			s.copys = append(s.copys, fields[1:])
			d[stage] = s
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// files returns the image paths of target (and the stages it is built
// FROM) mapped to their sources in the context.
func (d dockerfile) files(t *testing.T, target string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for s := target; s != "scratch"; s = d[s].from {
		stage, ok := d[s]
		if !ok {
			t.Fatalf("stage %s is not in the Dockerfile, and only scratch may be pulled", s)
		}
		for _, c := range stage.copys {
			if len(c) < 2 || strings.HasPrefix(c[0], "--") {
				t.Fatalf("stage %s: COPY %v: want sources and a destination, no options", s, c)
			}
			dst := c[len(c)-1]
			for _, src := range c[:len(c)-1] {
				if strings.HasSuffix(dst, "/") {
					out[dst+filepath.Base(src)] = src
				} else {
					out[dst] = src
				}
			}
		}
	}
	return out
}

func readYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
