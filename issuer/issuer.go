package issuer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/user"
	"path/filepath"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/federation"
	"github.com/aip-project/aip/internal/audit"
	"github.com/aip-project/aip/internal/svid"
	"github.com/aip-project/aip/internal/unixsock"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/issuer/registry"
	"github.com/aip-project/aip/issuer/server"
	"github.com/aip-project/aip/issuer/signer"
	"github.com/aip-project/aip/issuer/token"
)

// Issuer is a wired issuer: signer, stores, verifiers and HTTP server.
type Issuer struct {
	Server  *server.Server
	Signer  signer.Signer
	reg     registry.Store
	cfg     *config.Config
	log     *slog.Logger
	closers []func() error
	// bundleEndpoint is nil unless federation.bundle_endpoint is set.
	bundleEndpoint *federation.Endpoint
}

// Options are what New takes besides the configuration.
type Options struct {
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

// New builds an issuer from a validated configuration. It contacts the
// signing backend (a Vault transit key must exist or be created), the
// store and the Workload API; it does not listen yet.
func New(ctx context.Context, cfg *config.Config, o Options) (_ *Issuer, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	is := &Issuer{cfg: cfg, log: o.Logger}
	defer func() {
		if err != nil {
			_ = is.Close()
		}
	}()
	metrics := server.NewMetrics()

	raw, err := newSigner(ctx, cfg.Signer, o.Now)
	if err != nil {
		return nil, err
	}
	is.Signer = metrics.InstrumentSigner(cfg.Signer.Type, raw)

	st, err := openStores(cfg.Store, o.Now)
	if err != nil {
		return nil, err
	}
	is.closers = append(is.closers, st.close)
	is.reg = st.registry

	aw, err := audit.Open(cfg.Audit.Path, audit.Config{Now: o.Now, Logger: o.Logger, Sync: syncPolicy(cfg.Audit.Sync)})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	is.closers = append(is.closers, aw.Close)

	agents := &token.AgentVerifier{Audience: cfg.IssuerURL, Replay: st.replay, Now: o.Now}
	var tlsCfg *tls.Config
	var admins server.Admins
	if cfg.SPIFFE != nil {
		clientOpt := workloadapi.WithClientOptions(workloadapi.WithAddr(cfg.SPIFFE.WorkloadAPIAddr))
		var own spiffeid.ID
		if cfg.TLS != nil && cfg.TLS.SPIFFEID != "" {
			if own, err = spiffeid.FromString(cfg.TLS.SPIFFEID); err != nil {
				return nil, fmt.Errorf("tls.spiffe_id: %w", err)
			}
		}
		x509src, err := svid.NewX509Source(ctx, cfg.SPIFFE.WorkloadAPIAddr, own)
		if err != nil {
			return nil, fmt.Errorf("x509: %w", err)
		}
		is.closers = append(is.closers, x509src.Close)
		jwtsrc, err := workloadapi.NewJWTSource(ctx, clientOpt)
		if err != nil {
			return nil, fmt.Errorf("spiffe workload api (jwt): %w", err)
		}
		is.closers = append(is.closers, jwtsrc.Close)
		if agents.X509Bundles, agents.JWTBundles, err = is.agentBundles(ctx, cfg, x509src, jwtsrc); err != nil {
			return nil, err
		}
		if cfg.Federation != nil && cfg.Federation.BundleEndpoint != nil {
			if err := is.newBundleEndpoint(cfg, x509src); err != nil {
				return nil, err
			}
		}
		admins.X509Bundles = x509src
		if cfg.TLS != nil && cfg.TLS.SPIFFE {
			tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: tlsconfig.GetCertificate(x509src)}
		}
	}
	if cfg.TLS != nil && !cfg.TLS.SPIFFE {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	if tlsCfg != nil {
		// Client certificates are asked for, not required, and verified as
		// X509-SVIDs by the handlers (agents by mTLS, admins).
		tlsCfg.ClientAuth = tls.RequestClientCert
	}

	subjects, oidcV, err := newSubjects(cfg, o.Now)
	if err != nil {
		return nil, err
	}
	admins.SPIFFEIDs, admins.Groups, admins.OIDC = cfg.Admins.SPIFFEIDs, cfg.Admins.OIDCGroups, oidcV
	var local server.LocalAdmins
	if cfg.Admins.Socket != nil {
		local.UIDs = cfg.Admins.Socket.UIDs
	}

	var ci *token.CIVerifier
	if len(cfg.CITrust) > 0 {
		if ci, err = newCIVerifier(cfg.CITrust, st.replay, o.Now); err != nil {
			return nil, err
		}
	}
	ex, err := token.NewExchanger(token.Config{
		Issuer: cfg.IssuerURL, Agents: agents, Subjects: subjects, Registry: st.registry,
		Revocations: st.revocations, Signer: is.Signer, Audit: aw, Policies: cfg.Policies,
		DefaultTTL: cfg.Token.DefaultTTL, MaxTTL: cfg.Token.MaxTTL, Logger: o.Logger, Now: o.Now, CI: ci,
		Bindings: st.bindings,
	})
	if err != nil {
		return nil, err
	}
	is.Server, err = server.New(server.Config{
		IssuerURL: cfg.IssuerURL, Exchanger: ex, Signer: is.Signer, Registry: st.registry,
		Revocations: st.revocations, Audit: aw, Admins: admins, LocalAdmins: local, TLSConfig: tlsCfg,
		BodyLimit: cfg.Server.BodyLimit, RequestTimeout: cfg.Server.RequestTimeout,
		ReadTimeout: cfg.Server.ReadTimeout, WriteTimeout: cfg.Server.WriteTimeout,
		ShutdownTimeout: cfg.Server.ShutdownTimeout, Metrics: metrics, Logger: o.Logger, Now: o.Now,
		Bindings: st.bindings, SSO: ssoConfig(cfg),
	})
	if err != nil {
		return nil, err
	}
	return is, nil
}

// Run listens on the configured address, and on the admin socket when one
// is configured, and serves until ctx is done.
func (is *Issuer) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", is.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	adminLn, err := is.ListenAdmin(ctx)
	if err != nil {
		_ = ln.Close()
		return err
	}
	stopBundle, err := is.runBundleEndpoint(ctx)
	if err != nil {
		_ = ln.Close()
		if adminLn != nil {
			_ = adminLn.Close()
		}
		return err
	}
	defer stopBundle()
	is.log.Info("aip-issuer listening", "addr", ln.Addr().String(), "issuer", is.cfg.IssuerURL,
		"signer", is.cfg.Signer.Type, "store", is.cfg.Store.Type)
	return is.Serve(ctx, ln, adminLn)
}

// ListenAdmin listens on the configured admin socket (unixsock.Listen:
// mode 0600, or 0660 with the configured group; a stale socket replaced;
// anything else at the path refused). It returns nil, nil when no socket
// is configured.
func (is *Issuer) ListenAdmin(ctx context.Context) (net.Listener, error) {
	sc := is.cfg.Admins.Socket
	if sc == nil {
		return nil, nil
	}
	ln, err := unixsock.Listen(ctx, sc.Path, sc.GID)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	uids := "the issuer's own"
	if len(sc.UIDs) > 0 {
		uids = fmt.Sprint(sc.UIDs)
	}
	is.log.Info("admin API on a unix socket", "path", sc.Path, "allowed_uids", uids)
	return ln, nil
}

// Serve serves the API on ln and, when adminLn is not nil, the admin API
// on it (a listener from ListenAdmin), until ctx is done or one of them
// fails; then both shut down.
func (is *Issuer) Serve(ctx context.Context, ln, adminLn net.Listener) error {
	if adminLn == nil {
		return is.Server.Serve(ctx, ln)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- is.Server.Serve(ctx, ln) }()
	go func() { errc <- is.Server.ServeAdmin(ctx, adminLn) }()
	first := <-errc
	cancel()
	return errors.Join(first, <-errc)
}

// Registry returns the agent registry the issuer serves.
func (is *Issuer) Registry() registry.Store { return is.reg }

// Close releases the stores, the audit log and the Workload API sources.
func (is *Issuer) Close() error {
	var errs []error
	for i := len(is.closers) - 1; i >= 0; i-- {
		errs = append(errs, is.closers[i]())
	}
	is.closers = nil
	return errors.Join(errs...)
}

func newSigner(ctx context.Context, c config.Signer, now func() time.Time) (signer.Signer, error) {
	switch c.Type {
	case config.SignerTypeVault:
		keyType := signer.TransitEd25519
		if c.Algorithm == signer.ES256 {
			keyType = signer.TransitECDSAP256
		}
		t, err := signer.NewTransit(ctx, signer.TransitConfig{Address: c.Address, Token: c.Token, Mount: c.Mount,
			Key: c.Key, KeyType: keyType, Create: c.Create, Timeout: c.Timeout, Now: now})
		if err != nil {
			return nil, fmt.Errorf("vault signer: %w", err)
		}
		return t, nil
	default:
		l, err := signer.OpenLocalFile(signer.LocalConfig{Path: c.KeyFile, Algorithm: c.Algorithm, Now: now})
		if err != nil {
			return nil, fmt.Errorf("local signer: %w", err)
		}
		return l, nil
	}
}

func newSubjects(cfg *config.Config, now func() time.Time) (token.Subjects, token.SubjectVerifier, error) {
	var s token.Subjects
	var oidcV token.SubjectVerifier
	if len(cfg.IdentityProviders) > 0 {
		idps := make([]token.IdentityProvider, 0, len(cfg.IdentityProviders))
		for _, p := range cfg.IdentityProviders {
			idps = append(idps, token.IdentityProvider{Name: p.Name, IssuerURL: p.IssuerURL, Audience: p.Audience,
				UserIDClaim: p.Claims.UserID, EmailClaim: p.Claims.Email, GroupsClaim: p.Claims.Groups})
		}
		v, err := token.NewOIDCVerifier(token.OIDCConfig{Providers: idps, Now: now})
		if err != nil {
			return s, nil, err
		}
		s.OIDC, oidcV = v, v
	}
	if cfg.LocalUser.Enabled {
		id := cfg.LocalUser.UserID
		if id == "" {
			u, err := user.Current()
			if err != nil {
				return s, nil, fmt.Errorf("local user: %w", err)
			}
			id = u.Username
		}
		s.Local = token.LocalUser{UserID: id}
	}
	return s, oidcV, nil
}

func syncPolicy(every bool) audit.SyncPolicy {
	if every {
		return audit.SyncEveryRecord
	}
	return audit.SyncNone
}

// storeDir joins the file store's directory and a file name.
func storeDir(c config.Store, name string) string { return filepath.Join(c.Path, name) }
