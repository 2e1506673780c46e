package config

import "github.com/aip-project/aip/identity/jwk"

// Defaults returns the configuration of an empty file: the embedded
// single-machine default (local key file, file store).
func Defaults() File {
	var f File
	applyDefaults(&f)
	return f
}

// applyDefaults fills every key f leaves empty. It is the one place
// defaults live; some depend on the chosen backend types.
func applyDefaults(f *File) {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&f.Listen, "127.0.0.1:8443")
	set(&f.IssuerURL, "http://127.0.0.1:8443")
	set(&f.Server.ReadTimeout, "10s")
	set(&f.Server.WriteTimeout, "15s")
	set(&f.Server.RequestTimeout, "10s")
	set(&f.Server.ShutdownTimeout, "15s")
	set(&f.Server.BodyLimit, "64KiB")

	set(&f.Signer.Type, SignerTypeLocal)
	set(&f.Signer.Algorithm, jwk.EdDSA)
	switch f.Signer.Type {
	case SignerTypeLocal:
		set(&f.Signer.KeyFile, "aip-data/issuer-key.pem")
	case SignerTypeVault:
		set(&f.Signer.Mount, "transit")
		set(&f.Signer.Timeout, "2s")
	}

	set(&f.Store.Type, StoreTypeFile)
	set(&f.Store.Prefix, "aip")
	if f.Store.Type == StoreTypeFile {
		set(&f.Store.Path, "aip-data")
	}

	for i := range f.IdentityProviders {
		c := &f.IdentityProviders[i].Claims
		set(&c.UserID, "sub")
		set(&c.Email, "email")
		set(&c.Groups, "groups")
	}
	if f.SPIFFE != nil {
		set(&f.SPIFFE.IDTemplate, "/agent/{agent_id}")
	}
	set(&f.Token.DefaultTTL, "5m")
	set(&f.Token.MaxTTL, "1h")
	for i := range f.CITrust {
		set(&f.CITrust[i].TTL, f.Token.DefaultTTL)
	}
	set(&f.Audit.Path, "aip-data/issuer-audit.jsonl")
	set(&f.Log.Level, "info")
	set(&f.Log.Format, "text")
	applySSODefaults(f)
}
