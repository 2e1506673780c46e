package signer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/aip-project/aip/identity/jwk"
)

// Vault transit key types a Transit signer accepts.
const (
	TransitEd25519   = "ed25519"
	TransitECDSAP256 = "ecdsa-p256"
)

// TransitConfig configures a Transit signer.
type TransitConfig struct {
	// Client is a ready Vault client (address, token, TLS). When nil, one is
	// built from Address and Token with no retries (a down Vault fails fast);
	// the VAULT_* environment variables fill what these leave empty.
	Client  *vault.Client
	Address string
	Token   string
	// Mount is the transit engine's mount path; default "transit".
	Mount string
	// Key is the transit key name. Required.
	Key string
	// KeyType is the type the key must have, and is created with:
	// TransitEd25519 (default) or TransitECDSAP256.
	KeyType string
	// Create makes the key (exportable=false, no plaintext backup) when it
	// does not exist. Otherwise a missing key is an error.
	Create bool
	// Timeout bounds each Vault request; default 2 s.
	Timeout time.Duration
	// CacheTTL is how long the key versions read from Vault are used before
	// they are read again; default 1 min. A kid of a newer version than the
	// cache knows triggers a read at once.
	CacheTTL time.Duration
	// Retain is how long a version stays published once a newer version
	// exists: the longest token lifetime plus the verifiers' skew. Zero
	// means DefaultRetain.
	Retain time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Transit is a Signer whose keys live in Vault's transit engine and never
// leave it. Its kid is "<key name>-v<version>" (e.g. "aip-issuer-v3"), so a
// kid names the exact key version that signed; each signature request
// passes that version explicitly. A version stays published until Retain
// after the next version was created (Vault's creation_time of the next
// version), so every token it signed can still be verified.
//
// Vault unreachable, sealed or answering 5xx is ErrUnavailable.
type Transit struct {
	cfg    TransitConfig
	client *vault.Client

	refresh sync.Mutex // one reader of Vault at a time
	mu      sync.RWMutex
	state   *transitState
}

var _ Signer = (*Transit)(nil)

// NewTransit checks cfg, reads the key from Vault (creating it when
// cfg.Create is set) and checks that it is of cfg.KeyType and not
// exportable.
func NewTransit(ctx context.Context, cfg TransitConfig) (*Transit, error) {
	if cfg.Key == "" {
		return nil, errors.New("transit signer: key name is required")
	}
	if cfg.Mount == "" {
		cfg.Mount = "transit"
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	if cfg.KeyType == "" {
		cfg.KeyType = TransitEd25519
	}
	if cfg.KeyType != TransitEd25519 && cfg.KeyType != TransitECDSAP256 {
		return nil, fmt.Errorf("transit signer: key type %q: want %s or %s", cfg.KeyType, TransitEd25519, TransitECDSAP256)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Minute
	}
	if cfg.Retain < 0 {
		return nil, fmt.Errorf("transit signer: negative retain %s", cfg.Retain)
	}
	if cfg.Retain == 0 {
		cfg.Retain = DefaultRetain
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.Client
	if client == nil {
		var err error
		if client, err = newVaultClient(cfg); err != nil {
			return nil, err
		}
	}
	t := &Transit{cfg: cfg, client: client}
	if err := t.ensureKey(ctx); err != nil {
		return nil, fmt.Errorf("transit signer: %w", err)
	}
	return t, nil
}

func newVaultClient(cfg TransitConfig) (*vault.Client, error) {
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("transit signer: vault config: %w", vc.Error)
	}
	if cfg.Address != "" {
		vc.Address = cfg.Address
	}
	vc.MaxRetries = 0
	vc.Timeout = cfg.Timeout
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("transit signer: vault client: %w", err)
	}
	if cfg.Token != "" {
		c.SetToken(cfg.Token)
	}
	return c, nil
}

// Current returns the latest key version.
func (t *Transit) Current(ctx context.Context) (Key, error) {
	s, err := t.load(ctx, 0)
	if err != nil {
		return Key{}, err
	}
	return s.keys[s.latest], nil
}

// Sign signs signingInput in Vault with the key version named by kid. The
// answer is checked: the version Vault reports, the signature's encoding
// and length, and the signature itself against the version's public key.
func (t *Transit) Sign(ctx context.Context, kid string, signingInput []byte) ([]byte, error) {
	version, err := t.versionOf(kid)
	if err != nil {
		return nil, err
	}
	s, err := t.load(ctx, version)
	if err != nil {
		return nil, err
	}
	k, ok := s.keys[version]
	if !ok || (!k.NotAfter.IsZero() && !t.cfg.Now().Before(k.NotAfter)) {
		return nil, fmt.Errorf("%w: %s is not published", ErrUnknownKey, kid)
	}
	data := map[string]any{
		"input":       base64.StdEncoding.EncodeToString(signingInput),
		"key_version": version,
	}
	if k.Algorithm == ES256 {
		data["hash_algorithm"] = "sha2-256"
		data["marshaling_algorithm"] = "jws" // raw r||s, base64url
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	secret, err := t.client.Logical().WriteWithContext(ctx, t.path("sign"), data)
	if err != nil {
		return nil, vaultError("transit sign with "+kid, err)
	}
	if secret == nil {
		return nil, fmt.Errorf("transit sign with %s: empty answer", kid)
	}
	encoded, _ := secret.Data["signature"].(string)
	sig, err := parseTransitSignature(encoded, version, k.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("transit sign with %s: %w", kid, err)
	}
	if err := jwk.Verify(k.Public, k.Algorithm, signingInput, sig); err != nil {
		return nil, fmt.Errorf("transit sign with %s: vault's signature: %w", kid, err)
	}
	return sig, nil
}

// PublicKeys returns the published versions, latest first. When Vault
// cannot be read it serves the versions last read, if any, so verifiers
// keep working through an outage (signing does not).
func (t *Transit) PublicKeys(ctx context.Context) ([]Key, error) {
	s, err := t.load(ctx, 0)
	if err != nil {
		if s = t.cached(); s == nil {
			return nil, err
		}
	}
	return s.published(t.cfg.Now()), nil
}

// Rotate creates a new key version in Vault and returns it as the current
// key. Older versions stay published for Retain.
func (t *Transit) Rotate(ctx context.Context) (Key, error) {
	rctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	if _, err := t.client.Logical().WriteWithContext(rctx, t.path("keys")+"/rotate", nil); err != nil {
		return Key{}, vaultError("transit rotate", err)
	}
	t.mu.Lock()
	t.state = nil
	t.mu.Unlock()
	return t.Current(ctx)
}

// KeyID returns the kid of a version of the transit key.
func (t *Transit) KeyID(version int) string {
	return t.cfg.Key + "-v" + strconv.Itoa(version)
}

func (t *Transit) versionOf(kid string) (int, error) {
	rest, ok := strings.CutPrefix(kid, t.cfg.Key+"-v")
	v, err := strconv.Atoi(rest)
	if !ok || err != nil || v < 1 || strconv.Itoa(v) != rest {
		return 0, fmt.Errorf("%w: %q is not a version of transit key %s", ErrUnknownKey, kid, t.cfg.Key)
	}
	return v, nil
}

func (t *Transit) path(op string) string {
	return t.cfg.Mount + "/" + op + "/" + t.cfg.Key
}

// parseTransitSignature decodes Vault's "vault:v<N>:<base64>".
func parseTransitSignature(s string, version int, alg string) ([]byte, error) {
	prefix := "vault:v" + strconv.Itoa(version) + ":"
	b64, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("signature is not of the form %s<base64>", prefix)
	}
	enc := base64.StdEncoding // ed25519: Vault's default marshaling
	if alg == ES256 {
		enc = base64.RawURLEncoding // marshaling_algorithm=jws
	}
	sig, err := enc.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decode signature: %w", err)
	}
	if len(sig) != jwk.SignatureSize {
		return nil, fmt.Errorf("signature of %d bytes, want %d", len(sig), jwk.SignatureSize)
	}
	return sig, nil
}

// vaultError wraps a Vault client error: no answer, 429 or 5xx are
// ErrUnavailable; other answers (403, 400) are configuration errors.
func vaultError(op string, err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode >= 500 || re.StatusCode == 429 {
			return fmt.Errorf("%s: %w: vault answered %d", op, ErrUnavailable, re.StatusCode)
		}
		return fmt.Errorf("%s: vault answered %d: %s", op, re.StatusCode, strings.Join(re.Errors, "; "))
	}
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}
