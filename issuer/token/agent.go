package token

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/identity/jwk"
	"github.com/aip-project/aip/internal/nonce"
)

// How an agent proved its identity.
const (
	MethodJWTSVID = "jwt-svid"
	MethodMTLS    = "mtls"
	MethodDPoP    = "dpop"
)

// Errors of agent authentication.
var (
	// ErrNoAgentCredential means the request carries no actor token, client
	// certificate or DPoP proof.
	ErrNoAgentCredential = errors.New("no agent credential")
	// ErrAgentCredential means a credential was presented and refused.
	ErrAgentCredential = errors.New("agent credential invalid")
	// ErrReplay means a DPoP proof jti was already used.
	ErrReplay = errors.New("dpop proof replayed")
)

// Credentials is what the HTTP layer knows of the calling agent.
type Credentials struct {
	ActorToken string // a JWT-SVID, when sent
	// PeerCertificates is the verified-or-not TLS client chain (leaf
	// first); it is verified here against the SPIFFE bundles.
	PeerCertificates []*x509.Certificate
	DPoP             string // the DPoP header, when sent
	Method, URL      string // the request, for the DPoP htm/htu
}

// Proven is an authenticated agent credential, before the registry lookup.
type Proven struct {
	Method   string
	SPIFFEID string // JWT-SVID or mTLS
	X5T      string // mTLS: base64url SHA-256 of the leaf certificate
	JKT      string // DPoP: thumbprint of the proof key
	ProofJTI string
}

// AgentVerifier checks agent credentials.
type AgentVerifier struct {
	// Audience is the issuer URL, the audience of JWT-SVIDs.
	Audience string
	// JWTBundles and X509Bundles come from the Workload API; nil disables
	// the SPIFFE paths.
	JWTBundles  jwtbundle.Source
	X509Bundles x509bundle.Source
	// Replay remembers DPoP proof jtis, keyed "dpop:<jkt>:<jti>"; share
	// one nonce.Redis between replicas. Required for the DPoP path. A
	// replay is ErrReplay; a store that cannot tell fails the request
	// (never accepted unrecorded).
	Replay nonce.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify checks the credentials present. A JWT-SVID actor token wins over
// an mTLS certificate, which wins over a DPoP proof alone; a DPoP proof
// sent with a SPIFFE credential is checked too and binds the token to its
// key (cnf.jkt).
func (v *AgentVerifier) Verify(ctx context.Context, c Credentials) (*Proven, error) {
	var p *Proven
	var err error
	switch {
	case c.ActorToken != "":
		p, err = v.verifyJWTSVID(c.ActorToken)
	case len(c.PeerCertificates) > 0:
		p, err = v.verifyX509SVID(c.PeerCertificates)
	case c.DPoP != "":
		return v.verifyDPoP(ctx, c)
	default:
		return nil, ErrNoAgentCredential
	}
	if err != nil {
		return nil, err
	}
	if c.DPoP != "" {
		d, err := v.verifyDPoP(ctx, c)
		if err != nil {
			return nil, err
		}
		p.JKT, p.ProofJTI = d.JKT, d.ProofJTI
	}
	return p, nil
}

func (v *AgentVerifier) verifyJWTSVID(token string) (*Proven, error) {
	if v.JWTBundles == nil {
		return nil, fmt.Errorf("%w: jwt-svid: spiffe not configured", ErrAgentCredential)
	}
	svid, err := jwtsvid.ParseAndValidate(token, v.JWTBundles, []string{v.Audience})
	if err != nil {
		return nil, fmt.Errorf("%w: jwt-svid: %w", ErrAgentCredential, err)
	}
	return &Proven{Method: MethodJWTSVID, SPIFFEID: svid.ID.String()}, nil
}

func (v *AgentVerifier) verifyX509SVID(chain []*x509.Certificate) (*Proven, error) {
	if v.X509Bundles == nil {
		return nil, fmt.Errorf("%w: x509-svid: spiffe not configured", ErrAgentCredential)
	}
	id, _, err := x509svid.Verify(chain, v.X509Bundles, x509svid.WithTime(v.now()))
	if err != nil {
		return nil, fmt.Errorf("%w: x509-svid: %w", ErrAgentCredential, err)
	}
	return &Proven{Method: MethodMTLS, SPIFFEID: id.String(), X5T: jwk.HashB64(chain[0].Raw)}, nil
}

// verifyDPoP checks a proof by the key in its own header; the registry
// lookup by that key's thumbprint (or, with a SPIFFE credential, the
// binding alone) is what makes the key the agent's.
func (v *AgentVerifier) verifyDPoP(ctx context.Context, c Credentials) (*Proven, error) {
	jkt, err := proofThumbprint(c.DPoP)
	if err != nil {
		return nil, fmt.Errorf("%w: dpop: %w", ErrAgentCredential, err)
	}
	claims, err := dpop.Verify(c.DPoP, dpop.Expect{Method: c.Method, URL: c.URL, JKT: jkt, Now: v.Now})
	if err != nil {
		return nil, fmt.Errorf("%w: dpop: %w", ErrAgentCredential, err)
	}
	if v.Replay == nil {
		return nil, errors.New("dpop: no replay cache configured")
	}
	switch err := v.Replay.Record(ctx, "dpop:"+claims.JKT+":"+claims.JTI, claims.IssuedAt, claims.ReplayTTL); {
	case errors.Is(err, nonce.ErrReplayed):
		return nil, fmt.Errorf("%w: jti %q", ErrReplay, claims.JTI)
	case err != nil:
		return nil, fmt.Errorf("dpop: record proof jti: %w", err)
	}
	return &Proven{Method: MethodDPoP, JKT: claims.JKT, ProofJTI: claims.JTI}, nil
}

// proofThumbprint reads the public jwk of a proof's header (unverified:
// dpop.Verify then checks the signature with exactly that key).
func proofThumbprint(proof string) (string, error) {
	if len(proof) > 8<<10 {
		return "", errors.New("proof too large")
	}
	jws, err := jose.ParseSignedCompact(proof, jwk.Algorithms())
	if err != nil || len(jws.Signatures) != 1 {
		return "", errors.New("malformed proof")
	}
	k := jws.Signatures[0].Protected.JSONWebKey
	if k == nil || !k.IsPublic() {
		return "", errors.New("no public jwk in the proof header")
	}
	return jwk.Thumbprint(k.Key)
}

func (v *AgentVerifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}
