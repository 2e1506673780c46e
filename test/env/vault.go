package env

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// VaultServer is a real Vault dev server (in memory) with the transit
// engine mounted at transit/ and an ed25519 key named TransitKey.
type VaultServer struct {
	Addr       string // http://127.0.0.1:PORT
	Token      string // root token
	TransitKey string // "aip-test", type ed25519
	bin, dir   string
	port       int
	proc       *process
}

var vaultOnce once[VaultServer]

// Vault returns the shared Vault dev server, starting it on first use.
func Vault(t testing.TB) *VaultServer {
	t.Helper()
	skipShort(t, "vault")
	v, err := vaultOnce.get(startVault)
	if err != nil {
		t.Fatalf("vault: %v", err)
	}
	printLogsOnFailure(t, v.proc)
	return v
}

func startVault() (*VaultServer, error) {
	bin, err := Binary("VAULT", "vault")
	if err != nil {
		return nil, err
	}
	dir, err := tempDir("vault")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	v := &VaultServer{
		Addr: fmt.Sprintf("http://127.0.0.1:%d", port), Token: "root", TransitKey: "aip-test",
		bin: bin, dir: dir, port: port,
	}
	if err := v.start(); err != nil {
		return nil, err
	}
	onShutdown(func() { v.proc.stop() })
	return v, nil
}

func (v *VaultServer) start() error {
	// HOME points at the temp dir: the dev server writes ~/.vault-token.
	p, err := startProcess("vault", v.dir, []string{"HOME=" + v.dir, "VAULT_ADDR=" + v.Addr}, v.bin,
		"server", "-dev", "-dev-root-token-id="+v.Token, "-dev-listen-address=127.0.0.1:"+itoa(v.port), "-dev-no-store-token")
	if err != nil {
		return err
	}
	v.proc = p
	client, err := v.newClient()
	if err != nil {
		return err
	}
	err = waitFor(p, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		h, err := client.Sys().HealthWithContext(ctx)
		if err != nil {
			return err
		}
		if !h.Initialized || h.Sealed {
			return fmt.Errorf("vault not ready (initialized=%v sealed=%v)", h.Initialized, h.Sealed)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Sys().MountWithContext(ctx, "transit", &vault.MountInput{Type: "transit"}); err != nil {
		return fmt.Errorf("mount transit: %w", err)
	}
	return createTransitKey(ctx, client, v.TransitKey, "ed25519")
}

func createTransitKey(ctx context.Context, c *vault.Client, name, keyType string) error {
	_, err := c.Logical().WriteWithContext(ctx, "transit/keys/"+name, map[string]any{"type": keyType, "exportable": false})
	if err != nil {
		return fmt.Errorf("create transit key %s (%s): %w", name, keyType, err)
	}
	return nil
}

func (v *VaultServer) newClient() (*vault.Client, error) {
	cfg := vault.DefaultConfig()
	cfg.Address = v.Addr
	cfg.MaxRetries = 0
	cfg.HttpClient = &http.Client{Timeout: 5 * time.Second}
	c, err := vault.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	c.SetToken(v.Token)
	return c, nil
}

// Client returns an API client authenticated with the root token.
func (v *VaultServer) Client(t testing.TB) *vault.Client {
	t.Helper()
	c, err := v.newClient()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// CreateKey creates a transit key (type "ed25519" or "ecdsa-p256").
func (v *VaultServer) CreateKey(t testing.TB, name, keyType string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := createTransitKey(ctx, v.Client(t), name, keyType); err != nil {
		t.Fatal(err)
	}
}

// Stop stops Vault (for outage tests).
func (v *VaultServer) Stop(t testing.TB) {
	t.Helper()
	v.proc.stop()
}

// Start starts a stopped Vault again on the same address. The dev server
// keeps nothing: transit and TransitKey are created anew, other keys are gone.
func (v *VaultServer) Start(t testing.TB) {
	t.Helper()
	if !v.proc.exited() {
		return
	}
	if err := v.start(); err != nil {
		t.Fatalf("restart vault: %v", err)
	}
}
