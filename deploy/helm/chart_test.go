package helm_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

func TestLint(t *testing.T) {
	for _, values := range [][]string{nil, {"vault-external-redis.yaml"}, {"servicemonitor.yaml"},
		{"federation.yaml"}, {"sso-ci.yaml"}, {"ci-only.yaml"}} {
		args := []string{"lint", chartDir, "--strict", "--kube-version", kubeVersion}
		for _, f := range values {
			args = append(args, "-f", filepath.Join("testdata", f))
		}
		out, err := exec.Command(helmBin(t), args...).CombinedOutput()
		if err != nil {
			t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestRender(t *testing.T) {
	issuer, redis, example := fullname+"-issuer", fullname+"-redis", fullname+"-mcp-example"
	tests := []struct {
		name   string
		values []string
		check  func(t *testing.T, r *rendered)
	}{
		{"defaults", nil, func(t *testing.T, r *rendered) {
			d := r.deployments[issuer]
			if d == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != "Recreate" {
				t.Fatalf("issuer: want one replica, Recreate (a generated key)")
			}
			if v := volume(d, "spiffe-workload-api"); v == nil || v.CSI == nil || v.CSI.Driver != "csi.spiffe.io" {
				t.Errorf("issuer: the Workload API socket must come from the SPIFFE CSI driver")
			}
			if r.deployments[redis] == nil || r.netpols[redis] == nil {
				t.Errorf("in-chart Redis and its NetworkPolicy missing")
			}
			if r.deployments[example] != nil || len(r.serviceMonitors) != 0 {
				t.Errorf("examples and ServiceMonitor must be off by default")
			}
		}},
		{"vault and external redis", []string{"vault-external-redis.yaml"}, func(t *testing.T, r *rendered) {
			if r.deployments[redis] != nil {
				t.Errorf("in-chart Redis rendered with redis.enabled false")
			}
			d := r.deployments[issuer]
			if *d.Spec.Replicas != 3 || d.Spec.Strategy.Type == "Recreate" {
				t.Errorf("issuer: want 3 replicas rolled out")
			}
			c := container(t, d, "issuer")
			if !hasEnv(c.Env, "VAULT_CACERT", "/var/run/secrets/aip/vault-ca/ca.crt") || !hasEnv(c.Env, "VAULT_NAMESPACE", "aip") {
				t.Errorf("issuer: VAULT_CACERT and VAULT_NAMESPACE missing: %v", c.Env)
			}
			cfg := r.configMaps[issuer].Data["issuer.yaml"]
			for _, want := range []string{"type: vault", "token_file: /var/run/secrets/aip/vault/token",
				`"redis-0.redis.svc:6379"`, "password_file: /var/run/secrets/aip/redis/password"} {
				if !strings.Contains(cfg, want) {
					t.Errorf("issuer.yaml lacks %q", want)
				}
			}
			if v := volume(r.deployments[example], "aip-enforcer-issuer-ca"); v == nil || v.Secret == nil {
				t.Errorf("enforcer: issuer CA volume missing")
			}
		}},
		{"in-chart redis and example", []string{"in-chart-redis.yaml"}, func(t *testing.T, r *rendered) {
			d := r.deployments[example]
			if d == nil || len(d.Spec.Template.Spec.Containers) != 2 {
				t.Fatalf("example: want the MCP server and the enforcer sidecar")
			}
			if len(container(t, d, "mcp-server").Ports) != 0 {
				t.Errorf("example: the MCP server must expose no port")
			}
			np := r.netpols[example]
			port, health := containerPort(d, "aip-enforcer"), containerPort(d, "aip-health")
			if np == nil || len(np.Spec.Ingress) != 2 || len(np.Spec.Ingress[0].Ports) != 1 ||
				np.Spec.Ingress[0].Ports[0].Port.IntVal != port || len(np.Spec.Ingress[0].From) != 1 ||
				len(np.Spec.Ingress[1].Ports) != 1 || np.Spec.Ingress[1].Ports[0].Port.IntVal != health {
				t.Errorf("example NetworkPolicy must admit only the enforcer port %d from networkPolicy.from, and its health port %d: %+v", port, health, np)
			}
			// Probes go to the plain-HTTP health listener, which the config enables.
			e := container(t, d, "aip-enforcer")
			for name, p := range map[string]*corev1.Probe{"startup": e.StartupProbe, "liveness": e.LivenessProbe, "readiness": e.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.StrVal != "aip-health" {
					t.Errorf("enforcer %s probe must be an HTTP GET on aip-health: %+v", name, p)
				}
			}
			if e.ReadinessProbe != nil && e.ReadinessProbe.HTTPGet != nil && e.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("enforcer readiness probe path %q, want /readyz", e.ReadinessProbe.HTTPGet.Path)
			}
			if cfg := r.configMaps[example+"-enforcer"].Data["enforcer.yaml"]; !strings.Contains(cfg, fmt.Sprintf(`health_listen: "0.0.0.0:%d"`, health)) {
				t.Errorf("enforcer.yaml lacks health_listen on port %d:\n%s", health, cfg)
			}
			// The Redis NetworkPolicy admits the issuer and the enforcer pods.
			for _, name := range []string{issuer, example} {
				if !selectedBy(r.netpols[redis].Spec.Ingress[0].From[0].PodSelector.MatchLabels, r.deployments[name]) {
					t.Errorf("%s cannot reach the in-chart Redis", name)
				}
			}
			// Policies are a directory mount (no subPath), so ConfigMap swaps reload.
			for _, m := range container(t, d, "aip-enforcer").VolumeMounts {
				if m.SubPath != "" {
					t.Errorf("enforcer mount %s uses subPath: ConfigMap updates would not reach it", m.Name)
				}
			}
		}},
		{"hostPath socket", []string{"hostpath.yaml"}, func(t *testing.T, r *rendered) {
			for _, v := range []struct{ deploy, vol string }{{issuer, "spiffe-workload-api"}, {example, "aip-spiffe-workload-api"}} {
				vol := volume(r.deployments[v.deploy], v.vol)
				if vol == nil || vol.HostPath == nil || vol.HostPath.Path != "/run/spire/sockets" || vol.CSI != nil {
					t.Errorf("%s: want hostPath /run/spire/sockets", v.deploy)
				}
			}
			if cfg := r.configMaps[issuer].Data["issuer.yaml"]; !strings.Contains(cfg, "unix:///run/spire/agent-sockets/agent.sock") ||
				!strings.Contains(cfg, `trust_domain: "prod.example.org"`) {
				t.Errorf("issuer.yaml: socket or trust domain not from values:\n%s", cfg)
			}
		}},
		{"serviceMonitor behind an ingress", []string{"servicemonitor.yaml"}, func(t *testing.T, r *rendered) {
			sm := r.serviceMonitors[issuer]
			if sm == nil || sm.GetLabels()["release"] != "prometheus" {
				t.Fatalf("ServiceMonitor with the release label missing")
			}
			// The enforcer sidecars are scraped on their health port
			// (checkInvariants: the port is the example Service's).
			esm := r.serviceMonitors[example]
			if esm == nil || esm.GetLabels()["release"] != "prometheus" {
				t.Fatalf("enforcer ServiceMonitor with the release label missing")
			}
			eps, _, _ := unstructured.NestedSlice(esm.Object, "spec", "endpoints")
			if len(eps) != 1 || eps[0].(map[string]any)["port"] != "aip-health" || eps[0].(map[string]any)["scheme"] != "http" {
				t.Errorf("enforcer ServiceMonitor endpoints %v, want aip-health over http", eps)
			}
			if v := volume(r.deployments[issuer], "signer"); v == nil || v.Secret == nil || v.Secret.SecretName != "aip-signing-key" {
				t.Errorf("issuer: signing key must come from the Secret")
			}
		}},
		{"serviceMonitor over https", []string{"servicemonitor-https.yaml"}, func(t *testing.T, r *rendered) {
			if r.serviceMonitors[issuer] == nil {
				t.Fatalf("ServiceMonitor missing")
			}
		}},
		{"federation", []string{"federation.yaml"}, checkFederation},
		{"sso and ci trust", []string{"sso-ci.yaml"}, checkSSOAndCI},
		{"ci trust only, web bundle endpoint", []string{"ci-only.yaml"}, checkCIOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := render(t, tt.values...)
			checkInvariants(t, r)
			tt.check(t, r)
			checkConfigs(t, r)
		})
	}
}

// checkConfigs validates every aip configuration rendered, with the
// binaries, and checks once per Deployment that validation can fail.
func checkConfigs(t *testing.T, r *rendered) {
	t.Helper()
	n := 0
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if len(c.Command) == 0 || !strings.HasPrefix(c.Command[0], "aip-") {
				continue
			}
			n++
			if out, ok := validateConfig(t, r, d, c.Name, ""); !ok {
				t.Errorf("%s validate of %s/%s:\n%s", c.Command[0], d.Name, c.Name, out)
			}
			if out, ok := validateConfig(t, r, d, c.Name, "\nnot_a_key: 1\n"); ok {
				t.Errorf("%s validate accepted an unknown key in %s/%s: the check is not live\n%s", c.Command[0], d.Name, c.Name, out)
			}
		}
	}
	if n == 0 {
		t.Fatal("no aip container rendered")
	}
}

// TestRenderRefuses checks that value sets that cannot work fail to render,
// saying why.
func TestRenderRefuses(t *testing.T) {
	tests := []struct{ name, values, want string }{
		{"generated key with replicas", "issuer:\n  replicas: 2\n", "each pod would sign with its own key"},
		{"no redis", "redis:\n  enabled: false\n", "redis.addrs"},
		{"socket type", "spiffe:\n  socket:\n    type: nfs\n", "spiffe.socket.type"},
		{"tls secret without name", "issuer:\n  tls:\n    mode: secret\n", "issuer.tls.secretName"},
		{"vault without address", "issuer:\n  signer:\n    type: vault\n", "issuer.signer.vault.address"},
		{"no identity provider", "issuer:\n  identityProviders: []\n", "issuer.identityProviders"},
		{"sso without client secret", "issuer:\n  sso: {enabled: true, provider: corporate-sso, clientID: aip}\n", "issuer.sso.clientSecret.name"},
		{"sso without provider", "issuer:\n  sso: {enabled: true, clientID: aip, clientSecret: {name: s}}\n", "issuer.sso.provider"},
		{"sso replicas without state key", "issuer:\n  replicas: 2\n  signer: {local: {existingSecret: k}}\n  sso: {enabled: true, provider: corporate-sso, clientID: aip, clientSecret: {name: s}}\n",
			"issuer.sso.stateKey.name"},
		{"web bundle endpoint without secret", "issuer:\n  federation:\n    bundleEndpoint: {enabled: true, profile: https_web}\n",
			"issuer.federation.bundleEndpoint.secretName"},
		{"peer without trust domain", "issuer:\n  federation:\n    federatesWith: [{bundleEndpointURL: https://b, profile: https_web}]\n",
			"issuer.federation.federatesWith[0].trustDomain"},
		{"bundle inline and from a configmap", "issuer:\n  federation:\n    federatesWith: [{trustDomain: b.org, bundleEndpointURL: https://b, profile: https_web, bootstrapBundle: {inline: x, configMap: y}}]\n",
			"issuer.federation.federatesWith[0].bootstrapBundle: set inline or configMap, not both"},
		{"enforcer trusts by bundle without endpoint", "examples: {mcpServer: {enabled: true}}\nenforcer:\n  issuer: {keys: bundle, spiffeID: spiffe://example.org/i}\n",
			"issuer.federation.bundleEndpoint.enabled"},
		{"enforcer trusts by bundle without spiffe id", "examples: {mcpServer: {enabled: true}}\nenforcer:\n  issuer: {keys: bundle}\nissuer:\n  federation: {bundleEndpoint: {enabled: true}}\n",
			"enforcer.issuer.spiffeID"},
		{"enforcer issuer keys", "examples: {mcpServer: {enabled: true}}\nenforcer:\n  issuer: {keys: jwk}\n", "enforcer.issuer.keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(tt.values), 0o600); err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(f)
			_, err := helmTemplate(t, abs)
			var re *renderError
			if !errors.As(err, &re) || !strings.Contains(re.stderr, tt.want) {
				t.Fatalf("helm template: %v, want a failure naming %q", err, tt.want)
			}
		})
	}
}

func hasEnv(env []corev1.EnvVar, name, value string) bool {
	for _, e := range env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

func selectedBy(sel map[string]string, d *appsv1.Deployment) bool {
	return d != nil && len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(d.Spec.Template.Labels))
}
