// Package agentid holds the naming rules for agents: what an agent id may
// contain, and the scheme that maps an agent id to the SPIFFE ID its
// workload carries (by default spiffe://<trust-domain>/agent/<agent_id>).
//
// It only parses and formats identifiers; it never trusts an ID by itself.
// Whether a SPIFFE ID was proven (an SVID was verified) is the caller's
// business.
package agentid
