// Package registry is the issuer's canonical list of agents (the AIP Root
// Registry): who each agent is (SPIFFE ID and/or native public key), what
// it may do (capabilities), for whom (allowed users and groups), and its
// status. It also signs and verifies Agent Identity Documents (AIDs).
//
// Two Store implementations share one conformance suite (registrytest): a
// file store for a single node and a Redis store shared by issuer replicas.
//
// The package holds public keys only. It never logs a key or a token and
// never sees private key material; AIDs are signed through signer.Signer.
package registry
