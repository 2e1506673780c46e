package aipcmd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/issuerclient"
)

// defaultIssuerURL is the embedded default's issuer_url (deploy/issuer.yaml).
const defaultIssuerURL = "http://127.0.0.1:8443"

// maxSecretFile bounds token and key files read by the CLI.
const maxSecretFile = 64 << 10

// issuerFlags are the flags every command that calls the issuer takes.
type issuerFlags struct {
	url                       string
	adminTokenFile            string
	adminSocket               string
	certFile, keyFile, caFile string
	output                    string
	admin                     bool // declared with the admin credential flags
}

// declare adds the flags to fs; admin adds the admin credential flags.
func (o *issuerFlags) declare(fs *flag.FlagSet, admin bool) {
	def := os.Getenv("AIP_ISSUER")
	if def == "" {
		def = defaultIssuerURL
	}
	fs.StringVar(&o.url, "issuer", def, "issuer `URL` (default from AIP_ISSUER)")
	fs.StringVar(&o.output, "output", "table", "output format: table or json")
	fs.StringVar(&o.caFile, "ca", "", "PEM CA bundle `FILE` to verify an https issuer (default: system roots)")
	o.admin = admin
	if admin {
		fs.StringVar(&o.adminSocket, "admin-socket", "", "the issuer's admin Unix socket `PATH`: you are authorized by your uid\n"+
			"(default $AIP_ADMIN_SOCKET when no other admin credential is given)")
		fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "`FILE` holding an administrator's OIDC ID token (bearer)")
		fs.StringVar(&o.certFile, "cert", "", "PEM client certificate `FILE` for mTLS admin auth (an X509-SVID)")
		fs.StringVar(&o.keyFile, "cert-key", "", "PEM private key `FILE` of --cert (--key is the agent's key)")
	}
}

// socketFromEnv is $AIP_ADMIN_SOCKET for the commands that take admin
// credentials.
func (o *issuerFlags) socketFromEnv() string {
	if !o.admin {
		return ""
	}
	return os.Getenv("AIP_ADMIN_SOCKET")
}

// checkOutput validates --output.
func (o *issuerFlags) checkOutput() error {
	if o.output != "table" && o.output != "json" {
		return cli.Usagef("--output %q: want table or json", o.output)
	}
	return nil
}

// client builds the issuer client from the flags.
func (o *issuerFlags) client() (*issuerclient.Client, error) {
	if err := o.checkOutput(); err != nil {
		return nil, err
	}
	if (o.certFile == "") != (o.keyFile == "") {
		return nil, cli.Usagef("--cert and --cert-key go together")
	}
	if o.adminSocket != "" && (o.adminTokenFile != "" || o.certFile != "") {
		return nil, cli.Usagef("--admin-socket authenticates you by your uid: drop --admin-token-file and --cert")
	}
	cfg := issuerclient.Config{BaseURL: o.url, AdminSocket: o.adminSocket}
	if cfg.AdminSocket == "" && o.adminTokenFile == "" && o.certFile == "" {
		cfg.AdminSocket = o.socketFromEnv()
	}
	if o.adminTokenFile != "" {
		tok, err := readSecretFile(o.adminTokenFile)
		if err != nil {
			return nil, fmt.Errorf("--admin-token-file: %w", err)
		}
		cfg.AdminToken = tok
	}
	hc, err := o.httpClient()
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = hc
	c, err := issuerclient.New(cfg)
	if err != nil {
		return nil, cli.Usagef("--issuer: %v", err)
	}
	return c, nil
}

// httpClient is the HTTP client for the issuer, with the mTLS client
// certificate and CA bundle of the flags.
func (o *issuerFlags) httpClient() (*http.Client, error) {
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("http.DefaultTransport is not an *http.Transport")
	}
	tr = tr.Clone()
	if o.certFile != "" || o.caFile != "" {
		tc, err := o.tlsConfig()
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, Timeout: issuerclient.DefaultTimeout}, nil
}

func (o *issuerFlags) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.certFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--cert/--cert-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate", o.caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// readSecretFile reads a token file (trimmed); the content never appears
// in an error.
func readSecretFile(path string) (string, error) {
	data, _, err := readSmallFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return s, nil
}

// readSmallFile reads at most maxSecretFile bytes of path (a key, a
// token, an AID or a JWKS) and returns its file info.
func readSmallFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path) //nolint:gosec // the path is the user's argument
	if err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxSecretFile {
		return nil, nil, fmt.Errorf("%s: larger than %d bytes", path, maxSecretFile)
	}
	return data, fi, nil
}

// writeJSON prints v indented.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
