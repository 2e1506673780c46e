package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/agentid"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/internal/keypath"
)

// Validate checks f and converts it to a Config, reporting every problem.
// Secrets named by token_file and password_file are read here.
func Validate(f File) (*Config, error) {
	var p keypath.Problems
	c := &Config{Policies: map[string]string{}}

	if _, _, err := net.SplitHostPort(f.Listen); err != nil || f.Listen == "" {
		p.Add("listen", "must be host:port")
	}
	c.Listen = f.Listen
	c.IssuerURL = checkURL(&p, "issuer_url", f.IssuerURL, true)
	c.TLS = validateTLS(&p, f.TLS, f.SPIFFE != nil)
	c.Server = validateServer(&p, f.Server)
	c.Signer = validateSigner(&p, f.Signer)
	c.Store = validateStore(&p, f.Store)
	c.IdentityProviders = validateIDPs(&p, f.IdentityProviders)
	c.SPIFFE = validateSPIFFE(&p, f.SPIFFE)
	c.Federation = validateFederation(&p, f.Federation, f.SPIFFE)
	c.Token = validateToken(&p, f.Token)
	c.Admins = validateAdmins(&p, f.Admins, c.TLS != nil)
	c.CITrust = validateCITrust(&p, f.CITrust, c.Token.MaxTTL)
	c.LocalUser = LocalUser(f.LocalUser)
	if f.LocalUser.Enabled {
		host, _, _ := net.SplitHostPort(f.Listen)
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			p.Add("local_user.enabled", "only for the embedded default: listen must be a loopback address")
		}
		if f.Signer.Type != SignerTypeLocal || f.Store.Type != StoreTypeFile {
			p.Add("local_user.enabled", "only for the embedded default: needs signer.type local and store.type file")
		}
	} else if f.LocalUser.UserID != "" {
		p.Add("local_user.user_id", "set but local_user.enabled is false")
	}
	if len(c.IdentityProviders) == 0 && !f.LocalUser.Enabled && len(c.CITrust) == 0 {
		p.Add("identity_providers", "at least one identity provider is required (or ci_trust, or local_user.enabled on a single machine)")
	}
	if f.Audit.Path == "" {
		p.Add("audit.path", "is required")
	}
	c.Audit = Audit(f.Audit)
	for aud, h := range f.Policies {
		if aud == "" || strings.TrimSpace(h) == "" {
			p.Add(keypath.Join("policies", aud), "audience and policy hash must be non-empty")
			continue
		}
		c.Policies[aud] = h
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, f.Log.Level) {
		p.Add("log.level", "must be debug, info, warn or error")
	}
	if f.Log.Format != "text" && f.Log.Format != "json" {
		p.Add("log.format", "must be text or json")
	}
	c.Log = Log(f.Log)
	c.SSO = validateSSO(&p, f.SSO, c.IdentityProviders)
	if err := invalid(p); err != nil {
		return nil, err
	}
	return c, nil
}

// checkURL requires an absolute http(s) URL without query or fragment;
// plain http only for loopback hosts. It returns it without a trailing /.
func checkURL(p *keypath.Problems, path, raw string, required bool) string {
	if raw == "" {
		if required {
			p.Add(path, "is required")
		}
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		p.Add(path, "must be an absolute URL without query, fragment or credentials")
		return ""
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			p.Add(path, "must be https (plain http only on a loopback address)")
		}
	default:
		p.Add(path, "must be an https URL")
	}
	return strings.TrimSuffix(raw, "/")
}

func validateTLS(p *keypath.Problems, t *TLSFile, haveSPIFFE bool) *TLS {
	if t == nil {
		return nil
	}
	switch {
	case t.SPIFFE && (t.CertFile != "" || t.KeyFile != ""):
		p.Add("tls", "set either spiffe or cert_file and key_file, not both")
	case t.SPIFFE && !haveSPIFFE:
		p.Add("tls.spiffe", "needs the spiffe section (workload_api_addr)")
	case !t.SPIFFE && (t.CertFile == "" || t.KeyFile == ""):
		p.Add("tls", "needs cert_file and key_file, or spiffe: true")
	}
	if t.SPIFFEID != "" {
		if !t.SPIFFE {
			p.Add("tls.spiffe_id", "applies with spiffe: true only")
		} else if _, err := spiffeid.FromString(t.SPIFFEID); err != nil {
			p.Add("tls.spiffe_id", "must be a SPIFFE ID such as spiffe://example.org/aip/issuer")
		}
	}
	out := TLS(*t)
	return &out
}

func validateServer(p *keypath.Problems, s ServerFile) Server {
	out := Server{
		ReadTimeout:     duration(p, "server.read_timeout", s.ReadTimeout, time.Hour),
		WriteTimeout:    duration(p, "server.write_timeout", s.WriteTimeout, time.Hour),
		RequestTimeout:  duration(p, "server.request_timeout", s.RequestTimeout, time.Hour),
		ShutdownTimeout: duration(p, "server.shutdown_timeout", s.ShutdownTimeout, time.Hour),
	}
	n, err := parseSize(s.BodyLimit)
	if err != nil || n < 1<<10 || n > 16<<20 {
		p.Add("server.body_limit", "must be a size between 1KiB and 16MiB (e.g. 64KiB)")
	}
	out.BodyLimit = n
	return out
}

// duration parses a positive duration up to maxD.
func duration(p *keypath.Problems, path, s string, maxD time.Duration) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxD {
		p.Add(path, "must be a duration in (0, %s], e.g. 5m", maxD)
		return 0
	}
	return d
}

// parseSize reads "65536", "64KiB" or "1MiB".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return n * mult, nil
}

func validateSigner(p *keypath.Problems, s SignerFile) Signer {
	out := Signer{Type: s.Type, Algorithm: s.Algorithm, KeyFile: s.KeyFile, Address: s.Address,
		Token: s.Token, Mount: s.Mount, Key: s.Key, Create: s.Create}
	if s.Algorithm != jwk.EdDSA && s.Algorithm != jwk.ES256 {
		p.Add("signer.algorithm", "must be EdDSA or ES256")
	}
	switch s.Type {
	case SignerTypeLocal:
		if s.KeyFile == "" {
			p.Add("signer.key_file", "is required for type local")
		}
		for name, v := range map[string]string{"address": s.Address, "token": s.Token, "token_file": s.TokenFile, "key": s.Key} {
			if v != "" {
				p.Add("signer."+name, "only for type vault")
			}
		}
	case SignerTypeVault:
		if s.KeyFile != "" {
			p.Add("signer.key_file", "only for type local")
		}
		out.Address = checkURL(p, "signer.address", s.Address, true)
		if s.Key == "" {
			p.Add("signer.key", "is required for type vault (the transit key name)")
		}
		out.Token = secret(p, "signer", "token", s.Token, s.TokenFile)
		out.Timeout = duration(p, "signer.timeout", s.Timeout, time.Minute)
	default:
		p.Add("signer.type", "must be local or vault")
	}
	return out
}

// secret returns the secret set inline as section.name, or read from the
// file named by section.name_file (trimmed); setting both is a problem. The
// value is never put in a problem.
func secret(p *keypath.Problems, section, name, value, file string) string {
	switch {
	case value != "" && file != "":
		p.Add(section+"."+name, "set %s or %s_file, not both", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			p.Add(section+"."+name+"_file", "cannot be read")
		}
		return strings.TrimSpace(string(b))
	}
	return value
}

func validateStore(p *keypath.Problems, s StoreFile) Store {
	out := Store{Type: s.Type, Path: s.Path, Addrs: s.Addrs, Username: s.Username, Password: s.Password,
		DB: s.DB, Prefix: s.Prefix, TLS: s.TLS, MasterName: s.MasterName}
	switch s.Type {
	case StoreTypeFile:
		if s.Path == "" {
			p.Add("store.path", "is required for type file (a directory)")
		}
		if len(s.Addrs) > 0 || s.Password != "" || s.PasswordFile != "" || s.Username != "" || s.MasterName != "" {
			p.Add("store", "addrs, username, password, password_file and master_name are only for type redis")
		}
	case StoreTypeRedis:
		if s.Path != "" {
			p.Add("store.path", "only for type file")
		}
		if len(s.Addrs) == 0 {
			p.Add("store.addrs", "at least one host:port is required for type redis")
		}
		for i, a := range s.Addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				p.Add(keypath.Index("store.addrs", i), "must be host:port")
			}
		}
		if s.DB < 0 {
			p.Add("store.db", "must not be negative")
		}
		out.Password = secret(p, "store", "password", s.Password, s.PasswordFile)
	default:
		p.Add("store.type", "must be file or redis")
	}
	return out
}

func validateIDPs(p *keypath.Problems, idps []IDPFile) []IdentityProvider {
	out := make([]IdentityProvider, 0, len(idps))
	names, issuers := map[string]bool{}, map[string]bool{}
	for i, f := range idps {
		path := keypath.Index("identity_providers", i)
		if f.Name == "" {
			p.Add(path+".name", "is required")
		} else if names[f.Name] {
			p.Add(path+".name", "duplicate name %q", f.Name)
		}
		names[f.Name] = true
		iss := checkURL(p, path+".issuer_url", f.IssuerURL, true)
		if iss != "" && issuers[f.IssuerURL] {
			p.Add(path+".issuer_url", "duplicate issuer")
		}
		issuers[f.IssuerURL] = true
		if f.Audience == "" {
			p.Add(path+".audience", "is required (the client id ID tokens are issued to)")
		}
		// The issuer is compared exactly as the ID token's iss says it.
		out = append(out, IdentityProvider{Name: f.Name, IssuerURL: f.IssuerURL, Audience: f.Audience, Claims: Claims(f.Claims)})
	}
	return out
}

func validateSPIFFE(p *keypath.Problems, s *SPIFFEFile) *SPIFFE {
	if s == nil {
		return nil
	}
	if !strings.HasPrefix(s.WorkloadAPIAddr, "unix://") && !strings.HasPrefix(s.WorkloadAPIAddr, "tcp://") {
		p.Add("spiffe.workload_api_addr", "must be unix:///path/to/agent.sock or tcp://host:port")
	}
	td, err := spiffeid.TrustDomainFromString(s.TrustDomain)
	if err != nil || s.TrustDomain == "" {
		p.Add("spiffe.trust_domain", "must be a trust domain name such as example.org")
	} else if _, err := agentid.NewScheme(td, s.IDTemplate); err != nil {
		p.Add("spiffe.id_template", "must be a path with one {agent_id} segment, e.g. /agent/{agent_id}")
	}
	out := SPIFFE(*s)
	return &out
}

func validateToken(p *keypath.Problems, t TokenFile) Token {
	out := Token{
		DefaultTTL: duration(p, "token.default_ttl", t.DefaultTTL, aat.MaxLifetime),
		MaxTTL:     duration(p, "token.max_ttl", t.MaxTTL, aat.MaxLifetime),
	}
	if out.DefaultTTL > out.MaxTTL && out.MaxTTL > 0 {
		p.Add("token.default_ttl", "must not exceed token.max_ttl")
	}
	return out
}

func validateAdmins(p *keypath.Problems, a AdminsFile, haveTLS bool) Admins {
	for i, id := range a.SPIFFEIDs {
		if _, err := spiffeid.FromString(id); err != nil {
			p.Add(keypath.Index("admins.spiffe_ids", i), "must be a SPIFFE ID")
		}
	}
	if len(a.SPIFFEIDs) > 0 && !haveTLS {
		p.Add("admins.spiffe_ids", "needs tls (admins authenticate by mTLS)")
	}
	for i, g := range a.OIDCGroups {
		if g == "" {
			p.Add(keypath.Index("admins.oidc_groups", i), "must be non-empty")
		}
	}
	return Admins{SPIFFEIDs: a.SPIFFEIDs, OIDCGroups: a.OIDCGroups, Socket: validateAdminSocket(p, a.Socket)}
}
