package citoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultGitLabEnv is the variable a GitLab job's id_tokens: names when
// no other is given.
const DefaultGitLabEnv = "AIP_ID_TOKEN" //nolint:gosec // G101: a variable name, not a credential

// Timeout bounds fetching the GitHub Actions OIDC token.
const Timeout = 10 * time.Second

// maxResponse bounds the runtime's answer.
const maxResponse = 64 << 10

// EmptyVariableError means the GitLab variable that should hold the ID
// token is empty or unset.
type EmptyVariableError struct {
	Name string // the variable
}

func (e *EmptyVariableError) Error() string {
	return "$" + e.Name + " is empty: declare it under id_tokens: in .gitlab-ci.yml"
}

// GitHub asks the GitHub Actions runtime for the job's OIDC token for
// audience (the job needs `permissions: id-token: write`). Each call
// returns a new token. client nil means a client with a Timeout timeout;
// the whole fetch is bounded by Timeout either way.
func GitHub(ctx context.Context, client *http.Client, audience string) (string, error) {
	if audience == "" {
		return "", errors.New("the token's audience is required (the issuer's ci_trust audience)")
	}
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
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	// The URL is the CI runtime's own endpoint, from the job's environment.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil) //nolint:gosec // G704: see above
	if err != nil {
		return "", fmt.Errorf("request the token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = &http.Client{Timeout: Timeout}
	}
	resp, err := client.Do(req) //nolint:gosec // G704: the runtime's endpoint
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
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&body); err != nil || body.Value == "" {
		return "", fmt.Errorf("request the token from %s: the response has no token", u.Host)
	}
	return body.Value, nil
}

// GitLab reads the job's ID token from the environment variable name
// (DefaultGitLabEnv when empty), where GitLab puts the tokens the job's
// id_tokens: declares. GitLab makes them once per job: the same variable
// gives the same token each time.
func GitLab(name string) (string, error) {
	if name == "" {
		name = DefaultGitLabEnv
	}
	tok := strings.TrimSpace(os.Getenv(name))
	if tok == "" {
		return "", &EmptyVariableError{Name: name}
	}
	return tok, nil
}
