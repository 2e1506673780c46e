package sidecar

import (
	"crypto/x509"
	"net/http"
	"strings"
	"time"

	"github.com/aip-project/aip/enforcer/codes"
	"github.com/aip-project/aip/identity/aat"
)

// The AAT codes (-32015 … -32020) answer what is specific to an AAT: the
// registered agent and the user's delegation it carries. Problems of the
// token as a signed, key-bound JWT are the token codes (-32008, -32009).
// docs/tokens.md#sidecar-answers has the whole mapping.

// peerCert is the mTLS peer's leaf certificate, nil on a plain listener.
func peerCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

// missingToken is the refusal of a request without a token: -32015 when
// the handshake authenticated an agent (its SVID), else -32008.
func missingToken(r *http.Request, d *denial) *denial {
	if d.code == codes.TokenRequired && peerCert(r) != nil {
		return aatRequired()
	}
	return d
}

// checkAgent refuses a token whose actor is a SPIFFE ID that the issuer's
// registry does not hold for the agent the token names: aip-issuer sets
// act.sub to the SVID it authenticated and agent.spiffe_id to the SPIFFE
// ID registered for agent.id, which are then equal. A token whose SVID
// actor has no registry record behind it (agent.spiffe_id absent or
// another ID) names an agent not registered under that identity.
func checkAgent(c *aat.Claims) *denial {
	if !strings.HasPrefix(c.Actor.Subject, "spiffe://") || c.Agent.SPIFFEID == c.Actor.Subject {
		return nil
	}
	return &denial{status: http.StatusUnauthorized, code: codes.AgentNotRegistered, label: reasonNotRegistered,
		reason: "the agent acting with this token (act.sub) is not registered under agent " + quoteTool(c.Agent.ID) +
			" (agent.spiffe_id differs): register its SPIFFE ID with the issuer and get a new token"}
}

// checkDelegation refuses a token whose user authentication is older than
// max_delegation_age (when set): the user delegated to the agent at
// user_binding.auth_time, and that delegation has expired. A token that
// does not say when the user signed in cannot show it has not: refused.
func (a *authenticator) checkDelegation(c *aat.Claims) *denial {
	if a.maxDelegationAge <= 0 {
		return nil
	}
	at := c.UserBinding.AuthTime
	reason := "the token does not say when the user signed in (user_binding.auth_time), and this server limits delegations to " +
		a.maxDelegationAge.String() + ": the user must sign in with an identity provider that reports it"
	if at > 0 {
		age := a.now().Sub(at.Time())
		if age <= a.maxDelegationAge+a.skew {
			return nil
		}
		reason = "the user's delegation to this agent has expired: the user signed in " + age.Truncate(time.Second).String() +
			" ago, more than the " + a.maxDelegationAge.String() + " this server accepts; the user must sign in again"
	}
	return &denial{status: http.StatusUnauthorized, code: codes.DelegationExpired, label: reasonDelegation, reason: reason}
}
