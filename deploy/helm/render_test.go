// Package helm_test checks the aip chart: helm lint, helm template with
// several value sets, strict decoding of every rendered object into the
// k8s.io/api types, and the rendered issuer and enforcer configurations
// through `aip-issuer validate` and `aip-enforcer validate`.
//
// It is its own module so Kubernetes dependencies stay out of the product's.
// HELM and AIP_BIN point at the helm binary and the directory of the aip
// binaries (defaults: ../../.tools/bin/helm and ../../bin, as `make
// test-helm` builds them).
package helm_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/yaml"
)

const (
	chartDir  = "aip"
	release   = "rel"
	namespace = "aip-system"
	fullname  = "rel-aip"
	// kubeVersion is the cluster version rendered for (helm built from
	// source defaults to v1.20, below the chart's kubeVersion).
	kubeVersion = "1.33.0"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func helmBin(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(envOr("HELM", "../../.tools/bin/helm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("helm binary: %v (run `make helm`, or set HELM)", err)
	}
	return p
}

func aipBin(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(envOr("AIP_BIN", "../../bin"), name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v (run `make build`, or set AIP_BIN)", name, err)
	}
	return p
}

// rendered holds a chart rendering, decoded.
type rendered struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	pdbs            map[string]*policyv1.PodDisruptionBudget
	netpols         map[string]*networkingv1.NetworkPolicy
	serviceMonitors map[string]*unstructured.Unstructured
}

func helmTemplate(t *testing.T, valueFiles ...string) ([]byte, error) {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion}
	for _, f := range valueFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join("testdata", f)
		}
		args = append(args, "-f", f)
	}
	cmd := exec.Command(helmBin(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &renderError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type renderError struct {
	err    error
	stderr string
}

func (e *renderError) Error() string { return e.err.Error() + ": " + e.stderr }

// strictDecoder decodes YAML into the registered k8s.io/api types; unknown
// and duplicate fields are errors, and so are kinds it does not know.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// splitDocs splits a multi-document stream, dropping empty documents.
func splitDocs(out []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(out, []byte("\n---")) {
		var body []byte
		for _, line := range bytes.Split(d, []byte("\n")) {
			if s := strings.TrimSpace(string(line)); s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			body = d
			break
		}
		if body != nil {
			docs = append(docs, body)
		}
	}
	return docs
}

func render(t *testing.T, valueFiles ...string) *rendered {
	t.Helper()
	out, err := helmTemplate(t, valueFiles...)
	if err != nil {
		t.Fatalf("helm template %v: %v", valueFiles, err)
	}
	dec := strictDecoder(t)
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		netpols: map[string]*networkingv1.NetworkPolicy{}, serviceMonitors: map[string]*unstructured.Unstructured{},
	}
	for _, doc := range splitDocs(out) {
		var meta struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("rendered document is not YAML: %v\n%s", err, doc)
		}
		if meta.APIVersion == "monitoring.coreos.com/v1" && meta.Kind == "ServiceMonitor" {
			sm := &unstructured.Unstructured{}
			if err := yaml.UnmarshalStrict(doc, &sm.Object); err != nil {
				t.Fatalf("ServiceMonitor: %v", err)
			}
			r.serviceMonitors[sm.GetName()] = sm
			continue
		}
		obj, _, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("strict decoding of %s %s: %v\n%s", meta.APIVersion, meta.Kind, err, doc)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments[o.Name] = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *corev1.ConfigMap:
			r.configMaps[o.Name] = o
		case *policyv1.PodDisruptionBudget:
			r.pdbs[o.Name] = o
		case *networkingv1.NetworkPolicy:
			r.netpols[o.Name] = o
		default:
			t.Fatalf("rendered %T: add it to the test's kinds and checks", obj)
		}
		if ns := obj.(interface{ GetNamespace() string }).GetNamespace(); ns != namespace {
			t.Errorf("%s: namespace %q, want %q", meta.Kind, ns, namespace)
		}
	}
	return r
}
