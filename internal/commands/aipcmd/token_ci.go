package aipcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer/token"
)

// CI providers of --ci.
const (
	ciGitHub = "github"
	ciGitLab = "gitlab"
)

// defaultCITokenEnv is the variable a GitLab job's id_tokens: names.
const defaultCITokenEnv = "AIP_ID_TOKEN" //nolint:gosec // G101: a variable name, not a credential

// ciTokenTimeout bounds fetching the GitHub Actions OIDC token.
const ciTokenTimeout = 10 * time.Second

// ciFlags are the --ci flags of `aip token exchange`.
type ciFlags struct {
	provider string
	tokenEnv string
	audience string
	keyOut   string
}

func (f *ciFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.provider, "ci", "", "exchange the CI job's OIDC token, read from the environment of CI `PROVIDER` github or gitlab")
	fs.StringVar(&f.tokenEnv, "ci-token-env", "", "with --ci gitlab: the environment variable `NAME` holding the job's ID token (default "+defaultCITokenEnv+")")
	fs.StringVar(&f.audience, "ci-audience", "", "with --ci github: the `AUD` of the requested token (default: the issuer URL)")
	fs.StringVar(&f.keyOut, "key-out", "", "with --ci: write the generated key to `FILE` (mode 0600) for the agent using the AAT")
}

// note is what to tell the user after a CI exchange, or "".
func (f *ciFlags) note(keyPath string) string {
	if f.provider == "" || keyPath != "" || f.keyOut != "" {
		return ""
	}
	return "note: the AAT is bound to a key generated for this exchange and not saved: use --key-out FILE (or --key) to keep it"
}

// ciRequest builds the token request of --ci: the CI token as a jwt
// subject token, the job's key proving possession by DPoP.
func (o *exchangeFlags) ciRequest(ctx context.Context) (issuerclient.TokenRequest, *issuerclient.Client, error) {
	var req issuerclient.TokenRequest
	f := &o.ci
	switch {
	case f.provider != ciGitHub && f.provider != ciGitLab:
		return req, nil, cli.Usagef("--ci %q: want github or gitlab", f.provider)
	case len(o.audiences) == 0:
		return req, nil, cli.Usagef("--audience is required")
	case o.workloadAPI != "" || o.subjectTokenFile != "" || o.localUser.set:
		return req, nil, cli.Usagef("--ci reads the job's token from the CI environment: drop --workload-api, --subject-token-file and --local-user")
	case o.keyPath != "" && f.keyOut != "":
		return req, nil, cli.Usagef("give --key (an existing key) or --key-out (save a new one), not both")
	case f.provider == ciGitHub && f.tokenEnv != "":
		return req, nil, cli.Usagef("--ci-token-env is for --ci gitlab; on GitHub the token is fetched with ACTIONS_ID_TOKEN_REQUEST_URL")
	case f.provider == ciGitLab && f.audience != "":
		return req, nil, cli.Usagef("--ci-audience is for --ci github; on GitLab the audience is set under id_tokens: in .gitlab-ci.yml")
	}
	c, err := o.issuer.client()
	if err != nil {
		return req, nil, err
	}
	req.Audience = o.audiences
	req.Scope = strings.FieldsFunc(o.scope, func(r rune) bool { return r == ' ' || r == ',' })
	req.SubjectTokenType = token.TokenTypeJWT
	if f.provider == ciGitHub {
		aud := f.audience
		if aud == "" {
			aud = c.URL()
		}
		fctx, cancel := context.WithTimeout(ctx, ciTokenTimeout)
		defer cancel()
		if req.SubjectToken, err = fetchGitHubToken(fctx, aud); err != nil {
			return req, nil, fmt.Errorf("--ci github: %w", err)
		}
	} else {
		name := f.tokenEnv
		if name == "" {
			name = defaultCITokenEnv
		}
		if req.SubjectToken = strings.TrimSpace(os.Getenv(name)); req.SubjectToken == "" {
			return req, nil, fmt.Errorf("--ci gitlab: $%s is empty: declare it under id_tokens: in .gitlab-ci.yml (or name the variable with --ci-token-env)", name)
		}
	}
	if req.DPoPKey, err = o.ciKey(); err != nil {
		return req, nil, err
	}
	return req, c, nil
}

// ciKey is the key the AAT is bound to: --key, or a new one (saved to
// --key-out when given).
func (o *exchangeFlags) ciKey() (*dpop.Key, error) {
	if o.keyPath != "" {
		k, err := loadAgentKey(o.keyPath)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		return k, nil
	}
	priv, err := generateAgentKey("")
	if err != nil {
		return nil, fmt.Errorf("generate the job's key: %w", err)
	}
	if o.ci.keyOut != "" {
		if err := writeAgentKey(o.ci.keyOut, priv); err != nil {
			return nil, fmt.Errorf("--key-out: %w", err)
		}
	}
	return dpop.NewKeyFrom(priv)
}

// fetchGitHubToken asks the GitHub Actions runtime for the job's OIDC
// token (the job needs `permissions: id-token: write`). Neither the
// request token nor the ID token appears in an error.
func fetchGitHubToken(ctx context.Context, audience string) (string, error) {
	rawURL, bearer := os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if rawURL == "" || bearer == "" {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: give the job `permissions: id-token: write`")
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL is not an absolute URL")
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "https" && (u.Scheme != "http" || ip == nil || !ip.IsLoopback()) {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL must be https (plain http only on a loopback address)")
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	// The URL is the CI runtime's own endpoint, from the job's environment.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil) //nolint:gosec // G704: see above
	if err != nil {
		return "", fmt.Errorf("request the token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: ciTokenTimeout}).Do(req) //nolint:gosec // G704: the runtime's endpoint
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is the runtime's, not worth printing
		}
		return "", fmt.Errorf("request the token from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("request the token from %s: status %d", u.Host, resp.StatusCode)
	}
	var body struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSecretFile)).Decode(&body); err != nil || body.Value == "" {
		return "", fmt.Errorf("request the token from %s: the response has no token", u.Host)
	}
	return body.Value, nil
}
