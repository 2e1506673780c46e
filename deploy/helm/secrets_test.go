package helm_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestSecretsIn checks the invariant that no ConfigMap holds a secret can
// fail.
func TestSecretsIn(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"file forms", "sso:\n  client_secret_file: /s/c\n  state_key_file: /s/k\nstore:\n  password_file: /p\ntoken:\n  default_ttl: 5m\n", nil},
		{"empty values", "signer:\n  token: \"\"\nstore:\n  password:\n", nil},
		{"client secret inline", "sso:\n  client_secret: hunter2\n", []string{"c.yaml.sso.client_secret: a secret inline"}},
		{"vault token inline", "signer:\n  token: s.abc\n", []string{"c.yaml.signer.token: a secret inline"}},
		{"password in a list", "peers:\n  - password: 42\n", []string{"c.yaml.peers[0].password: a secret inline"}},
		{"private key", "key.pem: x\n-----BEGIN PRIVATE KEY-----\n", []string{"c.yaml: holds a private key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := secretsIn(&corev1.ConfigMap{Data: map[string]string{"c.yaml": tt.data}})
			if !slices.Equal(got, tt.want) {
				t.Errorf("secretsIn = %q, want %q", got, tt.want)
			}
		})
	}
}
