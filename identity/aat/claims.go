package aat

import (
	"github.com/go-jose/go-jose/v4/jwt"
)

// Type is the JWS typ header of an AAT.
const Type = "aat+jwt"

// Version is the aat_version this package mints and accepts.
const Version = "1"

// Claims are the claims of an AAT. The JSON names are the wire contract.
type Claims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"` // the user
	Actor     Actor           `json:"act"` // RFC 8693 delegation: the agent
	Audience  jwt.Audience    `json:"aud"` // the MCP server(s)
	IssuedAt  jwt.NumericDate `json:"iat"`
	NotBefore jwt.NumericDate `json:"nbf,omitempty"`
	Expiry    jwt.NumericDate `json:"exp"`
	ID        string          `json:"jti"`

	Version      string       `json:"aat_version"`
	Agent        Agent        `json:"agent"`
	UserBinding  UserBinding  `json:"user_binding"`
	Capabilities Capabilities `json:"capabilities"`
	SessionID    string       `json:"session_id,omitempty"`
	PolicyHash   string       `json:"policy_hash,omitempty"`
	Nonce        string       `json:"nonce,omitempty"`

	// Confirmation binds the token to the agent's key (RFC 7800).
	Confirmation *Confirmation `json:"cnf,omitempty"`
}

// Actor is the RFC 8693 act claim.
type Actor struct {
	Subject string `json:"sub"` // the agent's SPIFFE ID or agent id
}

// Agent identifies the agent the token was issued to.
type Agent struct {
	ID                  string `json:"id"`
	SPIFFEID            string `json:"spiffe_id,omitempty"`
	PublicKeyThumbprint string `json:"public_key_thumbprint,omitempty"` // RFC 7638
}

// UserBinding says how the user was authenticated.
type UserBinding struct {
	UserID     string          `json:"user_id"`
	Issuer     string          `json:"issuer,omitempty"` // the identity provider
	AuthMethod string          `json:"auth_method,omitempty"`
	AuthTime   jwt.NumericDate `json:"auth_time,omitempty"`
	Groups     []string        `json:"groups,omitempty"`
}

// Capabilities are what the agent may do for the user.
type Capabilities struct {
	Tools []string `json:"tools"`
}

// Confirmation is the cnf claim: the X509-SVID (RFC 8705) and/or DPoP key
// (RFC 9449) the token is bound to.
type Confirmation struct {
	X5TS256 string `json:"x5t#S256,omitempty"`
	JKT     string `json:"jkt,omitempty"`
}

// missing names the first required claim c lacks, or "".
func (c *Claims) missing() string {
	switch {
	case c.Issuer == "":
		return "iss"
	case c.Subject == "":
		return "sub"
	case c.Actor.Subject == "":
		return "act.sub"
	case len(c.Audience) == 0:
		return "aud"
	case c.IssuedAt <= 0:
		return "iat"
	case c.Expiry <= 0:
		return "exp"
	case c.ID == "":
		return "jti"
	case c.Version == "":
		return "aat_version"
	case c.Agent.ID == "":
		return "agent.id"
	}
	for _, a := range c.Audience {
		if a == "" {
			return "aud"
		}
	}
	return ""
}
