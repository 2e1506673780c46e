package aipcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/aip-project/aip/internal/atomicfile"
	"github.com/aip-project/aip/internal/cli"
	"github.com/aip-project/aip/issuer/registry"
)

// maxJWKSFile bounds a JWKS read from a file or URL.
const maxJWKSFile = 1 << 20

func agentAIDCommand() *cli.Command {
	var o issuerFlags
	var out string
	return &cli.Command{
		Name: "aid", Summary: "fetch an agent's signed Agent Identity Document (admin)", Usage: "[--out FILE] ID",
		Help: "Fetches the AID the registry signs for agent ID and writes it to --out or stdout.\n" +
			"Anyone holding the issuer's JWKS can check it offline with `aip agent verify-aid`.",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, true)
			fs.StringVar(&out, "out", "", "write the AID to `FILE` instead of stdout")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one agent ID")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			doc, err := c.AID(ctx, args[0])
			if err != nil {
				return fmt.Errorf("fetch aid of %q: %w", args[0], err)
			}
			if out == "" {
				_, err := fmt.Fprintf(env.Stdout, "%s\n", doc)
				return err
			}
			if err := atomicfile.Write(out, doc); err != nil {
				return fmt.Errorf("write aid: %w", err)
			}
			fmt.Fprintf(env.Stdout, "wrote the AID of %s to %s\n", args[0], out)
			return nil
		},
	}
}

func agentVerifyAIDCommand() *cli.Command {
	var o issuerFlags
	var jwksFrom string
	return &cli.Command{
		Name: "verify-aid", Summary: "verify a signed Agent Identity Document", Usage: "[--jwks FILE|URL] FILE",
		Help: "Checks FILE's registry_signature against the registry's JWKS (--jwks: a file, offline,\n" +
			"or a URL; default: the issuer's /.well-known/jwks.json), that the document is the\n" +
			"one signed, and that it is within its validity, then prints it.\n\n" +
			"Exit status: 0 when it verifies and the agent is active; 1 otherwise (the reason\n" +
			"is printed).",
		Flags: func(fs *flag.FlagSet) {
			o.declare(fs, false)
			fs.StringVar(&jwksFrom, "jwks", "", "JWKS `FILE` or http(s) URL (default: the issuer's)")
		},
		Run: func(ctx context.Context, env cli.Env, args []string) error {
			if len(args) != 1 {
				return cli.Usagef("want exactly one AID FILE")
			}
			if err := o.checkOutput(); err != nil {
				return err
			}
			doc, _, err := readSmallFile(args[0])
			if err != nil {
				return fmt.Errorf("read aid: %w", err)
			}
			set, err := o.loadJWKS(ctx, jwksFrom)
			if err != nil {
				return err
			}
			aid, err := registry.VerifyAID(doc, set, time.Now())
			if err != nil {
				fmt.Fprintf(env.Stdout, "FAIL %s: %v\n", args[0], err)
				return &cli.ExitError{Code: 1}
			}
			if o.output == "json" {
				if err := writeJSON(env.Stdout, aid); err != nil {
					return err
				}
			} else {
				writeAID(env.Stdout, args[0], aid)
			}
			if aid.Status != registry.StatusActive {
				return &cli.ExitError{Code: 1, Err: fmt.Errorf("the signature verifies, but agent %s is %s", aid.AgentID, aid.Status)}
			}
			return nil
		},
	}
}

func writeAID(w io.Writer, file string, a *registry.AID) {
	fmt.Fprintf(w, "OK %s: signed by the registry\n", file)
	fmt.Fprintf(w, "  agent_id:     %s\n  status:       %s\n", a.AgentID, a.Status)
	if a.Name != "" {
		fmt.Fprintf(w, "  name:         %s\n", a.Name)
	}
	if a.SPIFFEID != "" {
		fmt.Fprintf(w, "  spiffe_id:    %s\n", a.SPIFFEID)
	}
	if a.PublicKey != nil {
		if raw, err := a.PublicKey.MarshalJSON(); err == nil {
			fmt.Fprintf(w, "  public_key:   %s\n", raw)
		}
	}
	fmt.Fprintf(w, "  capabilities: %s\n", dash(strings.Join(a.Capabilities, ", ")))
	fmt.Fprintf(w, "  valid:        %s to %s\n", time.Unix(a.IssuedAt, 0).UTC().Format(time.RFC3339),
		time.Unix(a.ExpiresAt, 0).UTC().Format(time.RFC3339))
}

// loadJWKS reads the JWKS from a file, a URL, or the issuer when from is empty.
func (o *issuerFlags) loadJWKS(ctx context.Context, from string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	var data []byte
	var err error
	switch {
	case from == "":
		c, err := o.client()
		if err != nil {
			return set, err
		}
		set, err = c.JWKS(ctx)
		if err != nil {
			return set, fmt.Errorf("fetch jwks from %s: %w", c.URL(), err)
		}
		return set, nil
	case strings.HasPrefix(from, "https://") || strings.HasPrefix(from, "http://"):
		data, err = o.fetchJWKS(ctx, from)
	default:
		data, _, err = readSmallFile(from)
	}
	if err != nil {
		return set, fmt.Errorf("--jwks: %w", err)
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return set, fmt.Errorf("--jwks %s: not a JWK set: %w", from, err)
	}
	if len(set.Keys) == 0 {
		return set, fmt.Errorf("--jwks %s: no keys", from)
	}
	return set, nil
}

// fetchJWKS gets a JWKS from a URL, with the --ca of the flags.
func (o *issuerFlags) fetchJWKS(ctx context.Context, u string) ([]byte, error) {
	hc, err := o.httpClient()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks: %w", err)
	}
	resp, err := hc.Do(req) //nolint:gosec // the URL is the user's argument
	if err != nil {
		return nil, fmt.Errorf("fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch jwks %s: status %d", u, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSFile+1))
	if err != nil {
		return nil, fmt.Errorf("fetch jwks %s: %w", u, err)
	}
	if len(data) > maxJWKSFile {
		return nil, errors.New("fetch jwks: larger than 1 MiB")
	}
	return data, nil
}
