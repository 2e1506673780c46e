package stacktest

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"github.com/aip-project/aip/issuer"
	"github.com/aip-project/aip/issuer/config"
	"github.com/aip-project/aip/test/env"
	"github.com/aip-project/aip/test/issuertest"
)

// IssuerOptions say how StartIssuer configures the issuer. It always has
// a file store and an audit log in the test's temporary directory.
type IssuerOptions struct {
	// LocalUser is the id of the embedded local user; empty: none.
	LocalUser string
	// Signer is the signer section (YAML flow style); empty: a local key
	// file in the test's temporary directory.
	Signer string
	// SVID, when set, makes the issuer serve HTTPS with this X509-SVID
	// from SPIRE's Workload API; agents and admins authenticate with
	// theirs.
	SVID  spiffeid.ID
	SPIRE *env.SPIRE // the SPIRE serving SVID
	// FederatesWith, when set, is the federation.federates_with list (YAML
	// flow style, without the brackets); the issuer then also serves its
	// bundle endpoint (profile https_spiffe) on a second loopback port.
	FederatesWith string
	// Extra is more top-level YAML: identity providers, admins, token TTLs.
	Extra string
	// Now is the issuer's clock; nil: time.Now.
	Now func() time.Time
}

// Issuer is an issuer StartIssuer runs.
type Issuer struct {
	*issuer.Issuer
	URL       string // its issuer_url: https:// when it serves an SVID
	BundleURL string // its bundle endpoint's URL, when federated
	AuditPath string // its audit log
}

// StartIssuer runs a real issuer configured by o in-process on a free
// loopback port until t ends.
func StartIssuer(t testing.TB, o IssuerOptions) *Issuer {
	t.Helper()
	if !o.SVID.IsZero() && o.SPIRE == nil {
		t.Fatal("stacktest: IssuerOptions.SVID needs the SPIRE that serves it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var bundle net.Listener
	closeAll := func() {
		_ = ln.Close()
		if bundle != nil {
			_ = bundle.Close()
		}
	}
	dir := t.TempDir()
	is := &Issuer{URL: "http://" + ln.Addr().String(), AuditPath: filepath.Join(dir, "audit.jsonl")}
	if !o.SVID.IsZero() {
		is.URL = "https://" + ln.Addr().String()
	}
	yaml := fmt.Sprintf("listen: %q\nissuer_url: %q\naudit: {path: %q}\nstore: {type: file, path: %q}\n",
		ln.Addr().String(), is.URL, is.AuditPath, filepath.Join(dir, "store"))
	if o.Signer == "" {
		o.Signer = fmt.Sprintf("{type: local, key_file: %q}", filepath.Join(dir, "key.pem"))
	}
	yaml += "signer: " + o.Signer + "\n"
	if o.LocalUser != "" {
		yaml += fmt.Sprintf("local_user: {enabled: true, user_id: %s}\n", o.LocalUser)
	}
	if !o.SVID.IsZero() {
		yaml += fmt.Sprintf("tls: {spiffe: true, spiffe_id: %q}\nspiffe: {workload_api_addr: %q, trust_domain: %q}\n",
			o.SVID, o.SPIRE.WorkloadAddr, o.SPIRE.TrustDomain.Name())
	}
	if o.FederatesWith != "" {
		if bundle, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			closeAll()
			t.Fatal(err)
		}
		is.BundleURL = "https://" + bundle.Addr().String()
		yaml += fmt.Sprintf("federation:\n  bundle_endpoint: {listen: %q, profile: https_spiffe, refresh_hint: 2s}\n  federates_with: [%s]\n",
			bundle.Addr().String(), o.FederatesWith)
	}
	cfg, err := config.Parse([]byte(yaml + o.Extra))
	if err != nil {
		closeAll()
		t.Fatalf("issuer config: %v", err)
	}
	is.Issuer = issuertest.Run(t, cfg, issuer.Options{Now: o.Now}, ln, bundle)
	return is
}
