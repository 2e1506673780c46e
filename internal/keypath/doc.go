// Package keypath reports problems found in a configuration document, each
// under the key path it concerns (spec.tool_rules[2].action,
// policies["https://mcp.example.org"]), and collects them so a validator
// reports every problem at once.
//
// It owns the path syntax (Join, Index), the Problem and Problems types and
// the one ValidationError that policy, issuer configuration and DLP errors
// share. It never holds a value the document contains unless the caller put
// it in a message, so callers must keep secrets out of messages.
package keypath
