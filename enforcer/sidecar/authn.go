package sidecar

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/identity/aat"
	"github.com/aip-project/aip/identity/dpop"
	"github.com/aip-project/aip/internal/nonce"
	"github.com/aip-project/aip/internal/revocation"
)

// RevocationChecker answers whether a token's subjects are revoked, for
// the issuer iss that minted it.
type RevocationChecker interface {
	Check(ctx context.Context, iss string, s revocation.Subjects) (*revocation.Revocation, error)
}

// authenticator runs the identity half of the pipeline: token, AAT,
// policy hash, binding, proof, nonce and revocation.
type authenticator struct {
	verifier     *aat.Verifier
	nonces       nonce.Store
	revocations  RevocationChecker
	policyHashes *hashHistory
	requireProof bool
	failOpen     bool
	maxAge, skew time.Duration
	publicURL    string
	now          func() time.Time
	log          *slog.Logger
	metrics      *metrics

	// maxDelegationAge bounds the age of the user's sign-in behind a
	// token (max_delegation_age); zero: not checked.
	maxDelegationAge time.Duration
}

// caller is who an accepted request comes from.
type caller struct {
	claims *aat.Claims
	token  string
}

// authenticate checks r (whose body, for a POST, is body) and returns the
// caller, or why it is refused.
func (a *authenticator) authenticate(r *http.Request, body []byte) (*caller, *denial) {
	ctx := r.Context()
	token, d := tokenFrom(r.Header)
	if d != nil {
		d = missingToken(r, d)
		a.metrics.tokenResult(d.label)
		return nil, d
	}
	c, err := a.verifier.Verify(ctx, token)
	if err != nil {
		d := a.tokenDenial(err)
		a.metrics.tokenResult(tokenLabel(d))
		return nil, d
	}
	if d := checkAgent(c); d != nil {
		a.metrics.tokenResult(tokenLabel(d))
		return nil, d
	}
	if d := a.checkDelegation(c); d != nil {
		a.metrics.tokenResult(tokenLabel(d))
		return nil, d
	}
	if d := a.checkPolicyHash(c); d != nil {
		a.metrics.tokenResult(tokenLabel(d))
		return nil, d
	}
	if d := a.checkBinding(r, c, token, body); d != nil {
		a.metrics.tokenResult(tokenLabel(d))
		return nil, d
	}
	a.metrics.tokenResult("valid")
	if d := a.checkRevoked(ctx, c); d != nil {
		return nil, d
	}
	return &caller{claims: c, token: token}, nil
}

// tokenDenial maps a Verify error to its AIP code.
func (a *authenticator) tokenDenial(err error) *denial {
	switch {
	case errors.Is(err, aat.ErrAudience):
		return &denial{status: http.StatusUnauthorized, code: codes.AudienceMismatch, label: reasonAudience,
			tokenError: codes.TokenErrorAudience, reason: "the token is not for this server: ask the issuer for a token with this server's audience"}
	case errors.Is(err, aat.ErrIssuerUntrusted):
		return &denial{status: http.StatusUnauthorized, code: codes.IssuerUntrusted, label: reasonIssuer,
			tokenError: codes.TokenErrorIssuer, reason: "the token's issuer is not trusted by this server"}
	case errors.Is(err, aat.ErrKeysUnavailable):
		a.log.Error("issuer keys unavailable; refusing (fail closed)", "err", err)
		return unavailable("the enforcer could not fetch the issuer's keys to check the token; retry later")
	}
	if te := aat.TokenError(err); te != "" {
		return tokenInvalid(te, err.Error())
	}
	a.log.Error("token check failed; refusing (fail closed)", "err", err)
	return unavailable("the enforcer could not check the token; retry later")
}

// checkPolicyHash refuses a token minted for another policy than the one
// in force, except the previous one within the grace period.
func (a *authenticator) checkPolicyHash(c *aat.Claims) *denial {
	if c.PolicyHash == "" || a.policyHashes.accepts(c.PolicyHash, a.now()) {
		return nil
	}
	return aatInvalid(codes.TokenErrorPolicyHash,
		"the token was issued for another version of this server's policy: get a new token")
}

// checkBinding checks cnf: x5t#S256 and act.sub against the mTLS peer,
// and jkt against the DPoP proof.
func (a *authenticator) checkBinding(r *http.Request, c *aat.Claims, token string, body []byte) *denial {
	var peer *x509.Certificate
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		peer = r.TLS.PeerCertificates[0]
	}
	cnf := c.Confirmation
	if peer != nil {
		id, err := x509svid.IDFromCert(peer)
		if err != nil || id.String() != c.Actor.Subject {
			return tokenInvalid(codes.TokenErrorBinding, "the token was issued to another agent than the one on this connection (act.sub is not the peer's SPIFFE ID)")
		}
	}
	if cnf != nil && cnf.X5TS256 != "" {
		if err := aat.CheckX5T(c, peer); err != nil {
			return tokenInvalid(codes.TokenErrorBinding, "the token is bound to another certificate than this connection's: "+err.Error())
		}
	}
	if cnf == nil || cnf.JKT == "" {
		if a.requireProof {
			return tokenInvalid(codes.TokenErrorBinding, "this server requires DPoP-bound tokens (cnf jkt) and a DPoP proof on every request")
		}
		if cnf == nil || cnf.X5TS256 == "" {
			return tokenInvalid(codes.TokenErrorBinding, "the token is bound to no key (cnf)")
		}
		return nil
	}
	return a.checkProof(r, c, token, body)
}

// checkProof verifies the DPoP proof and records its jti once.
func (a *authenticator) checkProof(r *http.Request, c *aat.Claims, token string, body []byte) *denial {
	proof, d := proofFrom(r.Header)
	if d != nil {
		return d
	}
	if proof == "" {
		return tokenInvalid(codes.TokenErrorProof, "a DPoP proof is required with this token (header DPoP)")
	}
	pc, err := dpop.Verify(proof, dpop.Expect{Method: r.Method, URL: a.publicURL + r.URL.EscapedPath(),
		AccessToken: token, Body: body, JKT: c.Confirmation.JKT, Now: a.now, MaxAge: a.maxAge, Skew: a.skew})
	if err != nil {
		if !errors.Is(err, dpop.ErrInvalidProof) {
			a.log.Error("dpop check failed", "err", err)
			return unavailable("the enforcer could not check the DPoP proof")
		}
		return tokenInvalid(codes.TokenErrorProof, err.Error())
	}
	err = a.nonces.Record(r.Context(), pc.JKT+":"+pc.JTI, pc.IssuedAt, pc.ReplayTTL)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nonce.ErrBeforeHorizon):
		a.log.Warn("proof older than the nonce store refused", "aat_jti", c.ID, "proof_jti", pc.JTI, "agent_id", c.Agent.ID)
		d := tokenInvalid(codes.TokenErrorReplayDetected, "this request's DPoP proof was made before the enforcer's nonce store last started empty, so it could be a replay: send a fresh proof")
		d.label = reasonReplay
		return d
	case errors.Is(err, nonce.ErrReplayed):
		a.log.Warn("replayed request refused", "aat_jti", c.ID, "proof_jti", pc.JTI, "agent_id", c.Agent.ID)
		d := tokenInvalid(codes.TokenErrorReplayDetected, "this request was already received (DPoP proof jti reused): send a fresh proof with each request")
		d.label = reasonReplay
		return d
	default:
		a.log.Error("nonce store unavailable; refusing (fail closed)", "err", err)
		return unavailable("the enforcer cannot record request nonces (store unavailable), so it refuses calls until it can; retry later")
	}
}

// checkRevoked refuses a token whose agent, user, session or jti is
// revoked.
func (a *authenticator) checkRevoked(ctx context.Context, c *aat.Claims) *denial {
	user := c.UserBinding.UserID
	if user == "" {
		user = c.Subject
	}
	rev, err := a.revocations.Check(ctx, c.Issuer, revocation.Subjects{AgentID: c.Agent.ID, UserID: user, SessionID: c.SessionID, JTI: c.ID})
	if err != nil {
		if a.failOpen {
			a.log.Warn("revocations unavailable; letting the call through (revocation.fail_open)", "err", err, "aat_jti", c.ID)
			return nil
		}
		a.log.Error("revocations unavailable; refusing (fail closed)", "err", err)
		return unavailable("the enforcer cannot check revocations (store unavailable), so it refuses calls until it can; retry later")
	}
	if rev == nil {
		return nil
	}
	a.metrics.revoked()
	return &denial{status: http.StatusUnauthorized, code: codes.TokenRevoked, label: reasonRevoked,
		reason: fmt.Sprintf("%s %q is revoked", rev.Kind, rev.Subject)}
}

func tokenLabel(d *denial) string {
	if d.tokenError != "" {
		return d.tokenError
	}
	return d.label
}
