// Package federation lets aip trust identities from other SPIFFE trust
// domains and issuers from other places.
//
// It owns the federation configuration shared by aip-issuer and
// aip-enforcer (Peer, ValidatePeers), a Watcher that keeps the bundle of
// each federated trust domain fresh from its SPIFFE bundle endpoint
// (https_spiffe or https_web profile, refreshed on the endpoint's refresh
// hint, bootstrapped from a bundle file; go-spiffe's WatchBundle loop with
// each fetch bounded in time and size), Bundles merging those with the Workload API's, the Publisher and
// Endpoint through which an issuer serves its own bundle (its trust
// domain's X.509 authorities and its AAT signing keys as JWT
// authorities), and IssuerKeys, which verifies AATs with such a bundle.
//
// It fails closed: a trust domain with no bundle yet (no bootstrap, no
// successful fetch) has no authorities, so nothing from it verifies. It
// logs trust domains, sequence numbers and authority counts, never keys.
package federation
