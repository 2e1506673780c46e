// Package layering holds no code: its test checks which of aip's packages
// may depend on which, so that the identity library and the enforcer never
// come to need the issuer, and the issuer's config stays plain data.
package layering
