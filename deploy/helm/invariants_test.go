package helm_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// checkInvariants holds for every value set: hardened containers, mounts
// that name volumes, ConfigMaps that exist, selectors that select.
func checkInvariants(t *testing.T, r *rendered) {
	t.Helper()
	for name, d := range r.deployments {
		spec := d.Spec.Template.Spec
		if !labels.SelectorFromSet(d.Spec.Selector.MatchLabels).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("deployment %s: selector does not match its pod labels", name)
		}
		if psc := spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			t.Errorf("deployment %s: pod securityContext.runAsNonRoot must be true", name)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("deployment %s: automountServiceAccountToken must be false", name)
		}
		vols := map[string]corev1.Volume{}
		for _, v := range spec.Volumes {
			if _, dup := vols[v.Name]; dup {
				t.Errorf("deployment %s: volume %s twice", name, v.Name)
			}
			vols[v.Name] = v
			for _, cm := range volumeConfigMaps(v) {
				if r.configMaps[cm] == nil && objectData(t, r, cm, false) == nil {
					t.Errorf("deployment %s: volume %s names ConfigMap %s, which is not rendered (nor in testdata/objects)", name, v.Name, cm)
				}
			}
		}
		for _, c := range spec.Containers {
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s/%s: no securityContext", name, c.Name)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s/%s: readOnlyRootFilesystem must be true", name, c.Name)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s/%s: allowPrivilegeEscalation must be false", name, c.Name)
			case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
				t.Errorf("%s/%s: capabilities must drop ALL", name, c.Name)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: needs a cpu request and a memory limit", name, c.Name)
			}
			for _, m := range c.VolumeMounts {
				if _, ok := vols[m.Name]; !ok {
					t.Errorf("%s/%s: mount %s names no volume", name, c.Name, m.Name)
				}
			}
			if len(c.Command) > 0 && strings.HasPrefix(c.Command[0], "aip-") &&
				(c.StartupProbe == nil || c.LivenessProbe == nil || c.ReadinessProbe == nil) {
				t.Errorf("%s/%s: needs startup, liveness and readiness probes", name, c.Name)
			}
		}
	}
	for name, cm := range r.configMaps {
		for _, found := range secretsIn(cm) {
			t.Errorf("configmap %s: %s (secrets come from Secrets, mounted as files)", name, found)
		}
	}
	for name, s := range r.services {
		d := selected(r, s.Spec.Selector)
		if d == nil {
			t.Errorf("service %s: selects no rendered deployment", name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal != "" && containerPort(d, p.TargetPort.StrVal) == 0 {
				t.Errorf("service %s: targetPort %s is no container port of %s", name, p.TargetPort.StrVal, d.Name)
			}
			if p.TargetPort.StrVal == "" && !hasPortNumber(d, p.TargetPort.IntVal) {
				t.Errorf("service %s: targetPort %d is no container port of %s", name, p.TargetPort.IntVal, d.Name)
			}
		}
	}
	for name, p := range r.pdbs {
		if selected(r, p.Spec.Selector.MatchLabels) == nil {
			t.Errorf("pdb %s: selects no rendered deployment", name)
		}
	}
	for name, n := range r.netpols {
		if selected(r, n.Spec.PodSelector.MatchLabels) == nil {
			t.Errorf("networkpolicy %s: selects no rendered deployment", name)
		}
	}
	for name, sm := range r.serviceMonitors {
		checkServiceMonitor(t, r, name, sm)
	}
}

// checkServiceMonitor checks the fields the Prometheus Operator needs: a
// selector matching a rendered Service, and endpoints naming its ports.
func checkServiceMonitor(t *testing.T, r *rendered, name string, sm *unstructured.Unstructured) {
	t.Helper()
	if sm.GetAPIVersion() != "monitoring.coreos.com/v1" || sm.GetKind() != "ServiceMonitor" || sm.GetNamespace() != namespace {
		t.Errorf("servicemonitor %s: apiVersion/kind/namespace wrong", name)
	}
	match, _, err := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if err != nil || len(match) == 0 {
		t.Fatalf("servicemonitor %s: spec.selector.matchLabels is required (%v)", name, err)
	}
	var svc *corev1.Service
	for _, s := range r.services {
		if labels.SelectorFromSet(match).Matches(labels.Set(s.Labels)) {
			svc = s
		}
	}
	if svc == nil {
		t.Fatalf("servicemonitor %s: selects no rendered service", name)
	}
	eps, _, err := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if err != nil || len(eps) == 0 {
		t.Fatalf("servicemonitor %s: spec.endpoints is required (%v)", name, err)
	}
	for i, e := range eps {
		ep, _ := e.(map[string]any)
		port, _ := ep["port"].(string)
		if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port }) {
			t.Errorf("servicemonitor %s: endpoints[%d].port %q is no port of service %s", name, i, port, svc.Name)
		}
		if ep["path"] != "/metrics" {
			t.Errorf("servicemonitor %s: endpoints[%d].path = %v, want /metrics", name, i, ep["path"])
		}
		if s := ep["scheme"]; s != "http" && s != "https" {
			t.Errorf("servicemonitor %s: endpoints[%d].scheme = %v", name, i, s)
		}
	}
}

func selected(r *rendered, sel map[string]string) *appsv1.Deployment {
	if len(sel) == 0 {
		return nil
	}
	for _, d := range r.deployments {
		if labels.SelectorFromSet(sel).Matches(labels.Set(d.Spec.Template.Labels)) {
			return d
		}
	}
	return nil
}

func containerPort(d *appsv1.Deployment, name string) int32 {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
	}
	return 0
}

func hasPortNumber(d *appsv1.Deployment, n int32) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.ContainerPort == n {
				return true
			}
		}
	}
	return false
}

func container(t *testing.T, d *appsv1.Deployment, name string) *corev1.Container {
	t.Helper()
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == name {
			return c
		}
	}
	t.Fatalf("deployment %s: no container %s", d.Name, name)
	return nil
}

func volume(d *appsv1.Deployment, name string) *corev1.Volume {
	for i := range d.Spec.Template.Spec.Volumes {
		if v := &d.Spec.Template.Spec.Volumes[i]; v.Name == name {
			return v
		}
	}
	return nil
}

// volumeConfigMaps names the ConfigMaps a volume reads, directly or
// projected.
func volumeConfigMaps(v corev1.Volume) []string {
	var names []string
	if v.ConfigMap != nil {
		names = append(names, v.ConfigMap.Name)
	}
	if v.Projected != nil {
		for _, src := range v.Projected.Sources {
			if src.ConfigMap != nil {
				names = append(names, src.ConfigMap.Name)
			}
		}
	}
	return names
}

// secretKeys are configuration keys whose value is a secret: only their
// *_file forms may be in a ConfigMap.
var secretKeys = []string{"client_secret", "password", "token", "secret", "state_key"}

// secretsIn reports what in a ConfigMap looks like a secret: a PEM private
// key anywhere, or a non-empty value of a secret key in YAML data.
func secretsIn(cm *corev1.ConfigMap) []string {
	var found []string
	for key, data := range cm.Data {
		if strings.Contains(data, "PRIVATE KEY") {
			found = append(found, key+": holds a private key")
		}
		var doc any
		if yaml.Unmarshal([]byte(data), &doc) != nil {
			continue
		}
		walkYAML(doc, key, func(path, k string, v any) {
			if slices.Contains(secretKeys, k) && isSet(v) {
				found = append(found, path+": a secret inline")
			}
		})
	}
	slices.Sort(found)
	return found
}

// isSet: v is a scalar other than null and "" (a section such as the
// issuer's token: {default_ttl, ...} is not a secret).
func isSet(v any) bool {
	switch v := v.(type) {
	case nil, map[string]any, []any:
		return false
	case string:
		return v != ""
	}
	return true
}

// walkYAML calls f on every key of the decoded YAML document.
func walkYAML(doc any, path string, f func(path, key string, v any)) {
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			f(path+"."+k, k, v)
			walkYAML(v, path+"."+k, f)
		}
	case []any:
		for i, v := range d {
			walkYAML(v, path+"["+strconv.Itoa(i)+"]", f)
		}
	}
}
