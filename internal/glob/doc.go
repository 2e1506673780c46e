// Package glob holds the pattern language of ci_trust claim conditions:
// `*` within a path segment, `**` across `/`, every other character
// literal. The issuer's config validation checks patterns with Compile
// and its CI token verifier matches claim values with the result.
//
// It never logs.
package glob
