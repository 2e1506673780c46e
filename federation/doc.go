// Package federation lets aip trust identities from outside its own domain:
// SPIFFE trust bundles of federated trust domains, several OIDC identity
// providers, and several token issuers.
package federation
