package helm_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Checks of the value sets for federation, SSO binding and CI/CD trust:
// what was set reaches the rendered configurations (which checkConfigs
// then validates with the binaries) and the files they name are mounted
// from the right objects.

const (
	issuerName  = fullname + "-issuer"
	exampleName = fullname + "-mcp-example"
)

func checkFederation(t *testing.T, r *rendered) {
	d := r.deployments[issuerName]
	if p := containerPort(d, "bundle"); p != 8450 {
		t.Errorf("issuer: container port bundle = %d, want 8450", p)
	}
	if sp := servicePort(r.services[issuerName], "bundle"); sp == nil || sp.Port != 9443 || sp.TargetPort.StrVal != "bundle" {
		t.Errorf("issuer Service: port bundle %+v, want 9443 to targetPort bundle", sp)
	}
	cfg := config(t, r, issuerName, "issuer.yaml")
	wantValues(t, "issuer.yaml", cfg, map[string]any{
		"federation.federates_with[0].trust_domain":        "b.example.org",
		"federation.federates_with[0].profile":             "https_spiffe",
		"federation.federates_with[0].endpoint_spiffe_id":  "spiffe://b.example.org/spire/server",
		"federation.federates_with[0].bootstrap_bundle":    "/var/lib/aip/federation/b.example.org/bundle.json",
		"federation.federates_with[1].trust_domain":        "c.example.org",
		"federation.federates_with[1].profile":             "https_web",
		"federation.federates_with[1].ca_file":             "/var/lib/aip/federation/c.example.org/ca.crt",
		"federation.federates_with[1].bundle_endpoint_url": "https://bundle.c.example.org",
		"federation.bundle_endpoint.listen":                "0.0.0.0:8450",
		"federation.bundle_endpoint.profile":               "https_spiffe",
		"federation.bundle_endpoint.refresh_hint":          "30s",
	})
	wantProjected(t, d, "federation", map[string]string{
		fullname + "-issuer-federation/b.example.org.bundle.json": "b.example.org/bundle.json",
		"c-web-roots/ca.crt": "c.example.org/ca.crt",
	})

	ecfg := config(t, r, exampleName+"-enforcer", "enforcer.yaml")
	wantValues(t, "enforcer.yaml", ecfg, map[string]any{
		"issuers[0].bundle_trust_domain":                   "example.org",
		"issuers[0].spiffe_id":                             "spiffe://example.org/aip/issuer",
		"tls.trust_domains":                                []any{"example.org", "b.example.org"},
		"federation.federates_with[0].trust_domain":        "b.example.org",
		"federation.federates_with[0].bootstrap_bundle":    "/etc/aip/federation/b.example.org/bundle.json",
		"federation.federates_with[1].trust_domain":        "c.example.org",
		"federation.federates_with[1].ca_file":             "/etc/aip/federation/c.example.org/ca.crt",
		"federation.federates_with[2].trust_domain":        "example.org",
		"federation.federates_with[2].bundle_endpoint_url": "https://" + issuerName + "." + namespace + ".svc:9443",
		"federation.federates_with[2].endpoint_spiffe_id":  "spiffe://example.org/aip/issuer",
	})
	wantProjected(t, r.deployments[exampleName], "aip-enforcer-federation", map[string]string{
		"b-bundle/bundle.json":                                 "b.example.org/bundle.json",
		fullname + "-enforcer-federation/c.example.org.ca.crt": "c.example.org/ca.crt",
	})

	// The bootstrap bundle's content reaches the loader: a corrupt one
	// fails validation, naming the key.
	cm := r.configMaps[issuerName+"-federation"].DeepCopy()
	r.configMaps[cm.Name].Data["b.example.org.bundle.json"] = "{not a bundle"
	defer func() { r.configMaps[cm.Name] = cm }()
	if out, ok := validateConfig(t, r, d, "issuer", ""); ok || !strings.Contains(out, "federation.federates_with[0].bootstrap_bundle") {
		t.Errorf("aip-issuer validate with a corrupt bootstrap bundle: ok=%v\n%s", ok, out)
	}
}

func checkSSOAndCI(t *testing.T, r *rendered) {
	d := r.deployments[issuerName]
	cfg := config(t, r, issuerName, "issuer.yaml")
	wantValues(t, "issuer.yaml", cfg, map[string]any{
		"sso.provider":                               "corporate-sso",
		"sso.client_id":                              "aip-issuer",
		"sso.client_secret_file":                     "/var/run/secrets/aip/sso-client/client-secret",
		"sso.redirect_url":                           "https://aip.example.org/bind/callback",
		"sso.scopes":                                 []any{"openid", "email", "profile", "groups"},
		"sso.default_binding_ttl":                    "8h",
		"sso.max_binding_ttl":                        "168h",
		"sso.state_key_file":                         "/var/run/secrets/aip/sso-state/state-key",
		"ci_trust[0].name":                           "app-deploy",
		"ci_trust[0].issuer":                         "https://token.actions.githubusercontent.com",
		"ci_trust[0].conditions.repository":          "octo-org/app",
		"ci_trust[0].conditions.repository_owner_id": "4200001",
		"ci_trust[0].capabilities":                   []any{"deploy", "status"},
		"ci_trust[0].ttl":                            "10m",
		"ci_trust[1].name":                           "gitlab-release",
		"ci_trust[1].conditions.project_path":        "my-group/**",
		"ci_trust[1].conditions.ref_protected":       true,
	})
	for vol, secret := range map[string]string{"sso-client": "aip-sso-client", "sso-state": "aip-sso-state"} {
		v := volume(d, vol)
		if v == nil || v.Secret == nil || v.Secret.SecretName != secret || v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o400 {
			t.Errorf("issuer: volume %s must be Secret %s, mode 0400: %+v", vol, secret, v)
		}
	}
}

func checkCIOnly(t *testing.T, r *rendered) {
	d := r.deployments[issuerName]
	cfg := config(t, r, issuerName, "issuer.yaml")
	wantValues(t, "issuer.yaml", cfg, map[string]any{
		"identity_providers":                   []any{},
		"ci_trust[0].name":                     "deploy",
		"ci_trust[0].jwks_url":                 "https://gitlab.example.org/oauth/discovery/keys",
		"ci_trust[0].conditions.project_id":    float64(42),
		"federation.bundle_endpoint.listen":    "0.0.0.0:8444",
		"federation.bundle_endpoint.profile":   "https_web",
		"federation.bundle_endpoint.cert_file": "/var/run/secrets/aip/bundle-tls/tls.crt",
		"federation.bundle_endpoint.key_file":  "/var/run/secrets/aip/bundle-tls/tls.key",
	})
	if _, ok := lookup(cfg, "federation.federates_with"); ok {
		t.Errorf("issuer.yaml: federates_with rendered without peers")
	}
	if v := volume(d, "bundle-tls"); v == nil || v.Secret == nil || v.Secret.SecretName != "aip-bundle-tls" {
		t.Errorf("issuer: the bundle endpoint's certificate must come from Secret aip-bundle-tls: %+v", v)
	}
	if sp := servicePort(r.services[issuerName], "bundle"); sp == nil || sp.Port != 8444 {
		t.Errorf("issuer Service: port bundle %+v, want 8444", sp)
	}
	if volume(d, "federation") != nil {
		t.Errorf("issuer: federation volume without peers")
	}
}

// config decodes data[key] of the rendered ConfigMap name.
func config(t *testing.T, r *rendered, name, key string) any {
	t.Helper()
	cm := r.configMaps[name]
	if cm == nil {
		t.Fatalf("ConfigMap %s not rendered", name)
	}
	var doc any
	if err := yaml.Unmarshal([]byte(cm.Data[key]), &doc); err != nil {
		t.Fatalf("%s %s: %v", name, key, err)
	}
	return doc
}

// wantValues compares values at key paths (a.b[0].c) of a decoded
// configuration.
func wantValues(t *testing.T, what string, doc any, want map[string]any) {
	t.Helper()
	for path, w := range want {
		got, ok := lookup(doc, path)
		if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s = %#v (set: %v), want %#v", what, path, got, ok, w)
		}
	}
}

func lookup(doc any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		m, ok := doc.(map[string]any)
		if !ok {
			return nil, false
		}
		if doc, ok = m[name]; !ok {
			return nil, false
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			l, ok := doc.([]any)
			if err != nil || !ok || i >= len(l) {
				return nil, false
			}
			doc, rest = l[i], strings.TrimPrefix(after, "[")
		}
	}
	return doc, true
}

// wantProjected checks a projected volume's sources: "<ConfigMap>/<key>"
// to path, exactly.
func wantProjected(t *testing.T, d *appsv1.Deployment, name string, want map[string]string) {
	t.Helper()
	v := volume(d, name)
	if v == nil || v.Projected == nil {
		t.Fatalf("%s: no projected volume %s", d.Name, name)
	}
	got := map[string]string{}
	for _, src := range v.Projected.Sources {
		if src.ConfigMap == nil {
			t.Errorf("%s: volume %s: a source that is not a ConfigMap", d.Name, name)
			continue
		}
		for _, it := range src.ConfigMap.Items {
			got[src.ConfigMap.Name+"/"+it.Key] = it.Path
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: volume %s projects %v, want %v", d.Name, name, got, want)
	}
}

func servicePort(s *corev1.Service, name string) *corev1.ServicePort {
	if s == nil {
		return nil
	}
	for i := range s.Spec.Ports {
		if s.Spec.Ports[i].Name == name {
			return &s.Spec.Ports[i]
		}
	}
	return nil
}
