package aipcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/internal/issuerclient"
	"github.com/aip-project/aip/issuer/oauth"
	"github.com/aip-project/aip/issuer/token"
)

// workloadAPITimeout bounds fetching a JWT-SVID from the Workload API.
const workloadAPITimeout = 10 * time.Second

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:     "token",
		Summary:  "get Agent Authentication Tokens from the issuer",
		Commands: []*cli.Command{tokenExchangeCommand()},
	}
}

// localUserFlag is --local-user[=USER]: bare, it names the OS user.
type localUserFlag struct {
	set  bool
	name string
}

func (f *localUserFlag) String() string   { return f.name }
func (f *localUserFlag) IsBoolFlag() bool { return true }

func (f *localUserFlag) Set(v string) error {
	f.set = true
	if v != "true" {
		f.name = v
	}
	return nil
}

type exchangeFlags struct {
	issuer           issuerFlags
	audiences        stringList
	scope            string
	keyPath          string
	workloadAPI      string
	subjectTokenFile string
	localUser        localUserFlag
	ci               ciFlags       // token_ci.go
	login            bool          // the ID token stored by `aip login`
	binding          localUserFlag // the agent's SSO binding (=USER: that person's)
	loginFile        string
	// fetchSVID returns a JWT-SVID for audience from the Workload API at
	// addr; nil means the real Workload API (tests replace it).
	fetchSVID func(ctx context.Context, addr, audience string) (string, error)
}

func tokenExchangeCommand() *cli.Command {
	var o exchangeFlags
	return &cli.Command{
		Name:    "exchange",
		Summary: "exchange a user token and the agent's identity for an AAT",
		Usage: "--audience AUD [--scope TOOLS] (--key FILE | --workload-api ADDR [--key FILE]) (--subject-token-file FILE | --local-user[=USER] | --login | --binding[=USER])\n" +
			"  aip token exchange --audience AUD [--scope TOOLS] --ci github|gitlab [--key FILE | --key-out FILE]",
		Help: "Runs an RFC 8693 token exchange at the issuer and prints the AAT (with --output json,\n" +
			"the whole response: access_token, token_type, expires_in, scope).\n\n" +
			"The agent proves itself with its registered native key (--key: a DPoP proof, RFC 9449;\n" +
			"the AAT is bound to the key) or with a JWT-SVID from the SPIFFE Workload API\n" +
			"(--workload-api, audience = the issuer URL). With both, the SVID identifies the agent\n" +
			"and the DPoP proof by --key (any key the agent holds, see `aip agent keygen`; it need not\n" +
			"be registered) binds the AAT to that key: the agent then sends proofs with the same key.\n" +
			"--workload-api alone yields an unbound AAT, which sidecars requiring proofs refuse; it\n" +
			"is only usable where tokens are bound by mTLS instead. The user is an OIDC ID token read from\n" +
			"--subject-token-file, or, on the embedded single-machine default, the local OS user\n" +
			"(--local-user, or --local-user=NAME).\n\n" +
			"In a CI/CD job, --ci github|gitlab exchanges the job's OIDC token, read from the CI\n" +
			"environment, under the issuer's ci_trust policies (docs/cicd.md): the job proves a key it\n" +
			"generates (or --key) and the AAT is bound to it; --key-out saves that key for the agent.",
		Flags: func(fs *flag.FlagSet) {
			o.issuer.declare(fs, false)
			fs.Var(&o.audiences, "audience", "the MCP server `AUD` the AAT is for (required; repeatable)")
			fs.StringVar(&o.scope, "scope", "", "narrow the AAT to these `TOOLS` (space- or comma-separated)")
			fs.StringVar(&o.keyPath, "key", "", "the agent's private key `FILE` (PEM PKCS#8, mode 0600); with --workload-api, the key the AAT is bound to")
			fs.StringVar(&o.workloadAPI, "workload-api", "", "SPIFFE Workload API `ADDR`, e.g. unix:///run/spire/agent.sock")
			fs.StringVar(&o.subjectTokenFile, "subject-token-file", "", "`FILE` holding the user's OIDC ID token")
			fs.Var(&o.localUser, "local-user", "act for the local OS user (or --local-user=NAME)")
			o.ci.declare(fs)
			fs.BoolVar(&o.login, "login", false, "act for the user signed in by `aip login` (see --login-token-file)")
			fs.StringVar(&o.loginFile, "login-token-file", "", "the token `FILE` of `aip login` (default $XDG_CONFIG_HOME/aip/login.json)")
			fs.Var(&o.binding, "binding", "act for the person who bound the agent through SSO (--binding=USER when several did)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("no arguments are taken")
			}
			req, c, err := o.request(ctx)
			if err != nil {
				return err
			}
			res, err := c.Exchange(ctx, req)
			if err != nil {
				return fmt.Errorf("token exchange: %w%s", err, exchangeHint(err))
			}
			if o.issuer.output == "json" {
				return writeJSON(env.Stdout, res)
			}
			if note := o.ci.note(o.keyPath); note != "" {
				fmt.Fprintln(env.Stderr, note)
			}
			_, err = fmt.Fprintln(env.Stdout, res.AccessToken)
			return err
		},
	}
}

// request checks the flags and builds the token request.
func (o *exchangeFlags) request(ctx context.Context) (issuerclient.TokenRequest, *issuerclient.Client, error) {
	var req issuerclient.TokenRequest
	if o.ci.provider != "" {
		return o.ciRequest(ctx)
	}
	switch {
	case len(o.audiences) == 0:
		return req, nil, cli.Usagef("--audience is required")
	case o.keyPath == "" && o.workloadAPI == "":
		return req, nil, cli.Usagef("give --key, --workload-api, or both")
	case o.subjects() != 1:
		return req, nil, cli.Usagef("give exactly one of --subject-token-file, --local-user, --login and --binding")
	}
	c, err := o.issuer.client()
	if err != nil {
		return req, nil, err
	}
	req.Audience = o.audiences
	req.Scope = strings.FieldsFunc(o.scope, func(r rune) bool { return r == ' ' || r == ',' })
	if o.login || o.binding.set {
		if err := o.ssoSubject(&req); err != nil {
			return req, nil, err
		}
	} else if o.subjectTokenFile != "" {
		if req.SubjectToken, err = readSecretFile(o.subjectTokenFile); err != nil {
			return req, nil, fmt.Errorf("--subject-token-file: %w", err)
		}
		req.SubjectTokenType = token.TokenTypeIDToken
	} else {
		req.SubjectTokenType = token.TokenTypeLocalUser
		if req.SubjectToken = o.localUser.name; req.SubjectToken == "" {
			u, err := user.Current()
			if err != nil {
				return req, nil, fmt.Errorf("--local-user: %w", err)
			}
			req.SubjectToken = u.Username
		}
	}
	if o.keyPath != "" {
		if req.DPoPKey, err = loadAgentKey(o.keyPath); err != nil {
			return req, nil, fmt.Errorf("--key: %w", err)
		}
	}
	if o.workloadAPI == "" {
		return req, c, nil
	}
	fetch := o.fetchSVID
	if fetch == nil {
		fetch = fetchJWTSVID
	}
	wctx, cancel := context.WithTimeout(ctx, workloadAPITimeout)
	defer cancel()
	if req.ActorToken, err = fetch(wctx, o.workloadAPI, c.URL()); err != nil {
		return req, nil, fmt.Errorf("fetch a JWT-SVID from the workload api at %s: %w", o.workloadAPI, err)
	}
	return req, c, nil
}

// fetchJWTSVID returns a JWT-SVID for audience from the Workload API.
func fetchJWTSVID(ctx context.Context, addr, audience string) (string, error) {
	svid, err := workloadapi.FetchJWTSVID(ctx, jwtsvid.Params{Audience: audience}, workloadapi.WithAddr(addr))
	if err != nil {
		return "", err
	}
	return svid.Marshal(), nil
}

// exchangeHint explains refusals whose public description is uniform.
func exchangeHint(err error) string {
	var e *issuerclient.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch {
	case e.Code == oauth.UnauthorizedClient && strings.Contains(e.Description, "not active"):
		return " (the agent is suspended or revoked in the registry: `aip agent show`)"
	case e.Code == oauth.InvalidGrant && e.Description == oauth.AuthFailed:
		return " (the user token was refused, or the agent, user or session is revoked)"
	case e.Code == oauth.InvalidClient || e.Code == oauth.InvalidDPoPProof:
		return " (the agent's key or SVID was refused: is it registered?)"
	}
	return ""
}
