package helm_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// validateConfig runs `<binary> validate` on the configuration a container
// of d reads. The container's file system is rebuilt in a temporary
// directory from its mounts (rendered ConfigMaps with their data, Secrets
// with placeholder files, other volumes empty), every file the
// configuration names must lie on a mount, and those paths are rewritten
// into the temporary directory. extra is appended to the configuration
// (to check that validation can fail). It returns validate's output and
// whether it passed.
func validateConfig(t *testing.T, r *rendered, d *appsv1.Deployment, containerName, extra string) (string, bool) {
	t.Helper()
	c := container(t, d, containerName)
	if len(c.Command) < 4 || c.Command[1] != "serve" || c.Command[2] != "-config" {
		t.Fatalf("%s/%s: command %v, want [<binary> serve -config FILE]", d.Name, c.Name, c.Command)
	}
	binary, configPath := c.Command[0], c.Command[3]
	root := t.TempDir()
	mounts := make([]string, 0, len(c.VolumeMounts))
	for _, m := range c.VolumeMounts {
		mounts = append(mounts, m.MountPath)
		populate(t, r, filepath.Join(root, m.MountPath), volume(d, m.Name))
	}
	// Longest first: the deepest mount holding a path is the one it is on.
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	onMount := func(p string) bool {
		return slices.ContainsFunc(mounts, func(m string) bool { return p == m || strings.HasPrefix(p, m+"/") })
	}
	if !onMount(configPath) {
		t.Fatalf("%s/%s: config %s is on no mount", d.Name, c.Name, configPath)
	}
	raw, err := os.ReadFile(filepath.Join(root, configPath))
	if err != nil {
		t.Fatalf("%s/%s: config %s: %v", d.Name, c.Name, configPath, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s/%s: config is not YAML: %v", d.Name, c.Name, err)
	}
	rewritePaths(t, &doc, "", func(key, p string) string {
		if !onMount(p) {
			t.Errorf("%s/%s: config %s names %s, which no volume mounts", d.Name, c.Name, key, p)
		}
		return filepath.Join(root, p)
	})
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, append(out, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(aipBin(t, filepath.Base(binary)), "validate", "-config", file)
	res, err := cmd.CombinedOutput()
	return string(res), err == nil
}

// rewritePaths calls f on every file path in the configuration: values of
// keys named path, bootstrap_bundle, *_file and workload_api_addr (unix://).
func rewritePaths(t *testing.T, n *yaml.Node, key string, f func(key, p string) string) {
	t.Helper()
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			rewritePaths(t, c, key, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				rewritePaths(t, v, k, f)
				continue
			}
			switch {
			case v.Value == "":
			case k == "workload_api_addr":
				p, ok := strings.CutPrefix(v.Value, "unix://")
				if !ok {
					t.Errorf("workload_api_addr %q: want a unix socket", v.Value)
					continue
				}
				v.Value = "unix://" + f(k, p)
			case k == "path" || k == "bootstrap_bundle" || strings.HasSuffix(k, "_file"):
				if !filepath.IsAbs(v.Value) {
					t.Errorf("%s: %q is not absolute", k, v.Value)
					continue
				}
				v.Value = f(k, v.Value)
			}
		}
	}
}

// populate fills dir as the volume would in the pod. ConfigMaps the chart
// renders give their data; ConfigMaps and Secrets the user brings give the
// files under testdata/objects/<name>/ when there are some (real bundles,
// roots, keys), and a Secret a placeholder for each projected key otherwise.
func populate(t *testing.T, r *rendered, dir string, v *corev1.Volume) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	configMap := func(name string, items []corev1.KeyToPath) {
		data := objectData(t, r, name, false)
		if len(items) == 0 {
			for k, d := range data {
				write(k, d)
			}
		}
		for _, it := range items {
			if d, ok := data[it.Key]; ok {
				write(it.Path, d)
			}
		}
	}
	secret := func(name string, items []corev1.KeyToPath) {
		data := objectData(t, r, name, true)
		for _, it := range items {
			d, ok := data[it.Key]
			if !ok {
				d = "placeholder-" + it.Key
			}
			write(it.Path, d)
		}
	}
	switch {
	case v == nil:
	case v.ConfigMap != nil:
		configMap(v.ConfigMap.Name, v.ConfigMap.Items)
	case v.Secret != nil:
		secret(v.Secret.SecretName, v.Secret.Items)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			switch {
			case src.ConfigMap != nil:
				configMap(src.ConfigMap.Name, src.ConfigMap.Items)
			case src.Secret != nil:
				secret(src.Secret.Name, src.Secret.Items)
			default:
				t.Errorf("projected volume %s: a source populate does not know", v.Name)
			}
		}
	}
}

// objectData is the data of the ConfigMap (or Secret) name: a rendered
// ConfigMap's, or the files of testdata/objects/<name>/ standing for one
// the user brings (nil when there are none: checkInvariants reports
// missing chart ConfigMaps).
func objectData(t *testing.T, r *rendered, name string, secret bool) map[string]string {
	t.Helper()
	if cm := r.configMaps[name]; cm != nil && !secret {
		return cm.Data
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "objects", name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "objects", name, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		data[e.Name()] = string(b)
	}
	return data
}
