package aipcmd

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/citoken"
	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer/token"
)

// CI providers of --ci.
const (
	ciGitHub = "github"
	ciGitLab = "gitlab"
)

// ciFlags are the --ci flags of `aip token exchange`.
type ciFlags struct {
	provider string
	tokenEnv string
	audience string
	keyOut   string
}

func (f *ciFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.provider, "ci", "", "exchange the CI job's OIDC token, read from the environment of CI `PROVIDER` github or gitlab")
	fs.StringVar(&f.tokenEnv, "ci-token-env", "", "with --ci gitlab: the environment variable `NAME` holding the job's ID token (default "+citoken.DefaultGitLabEnv+")")
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
		if req.SubjectToken, err = citoken.GitHub(ctx, nil, aud); err != nil {
			return req, nil, fmt.Errorf("--ci github: %w", err)
		}
	} else if req.SubjectToken, err = citoken.GitLab(f.tokenEnv); err != nil {
		return req, nil, fmt.Errorf("--ci gitlab: %w (or name the variable with --ci-token-env)", err)
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
