// Package integration holds end-to-end tests that run aip against the real
// components started by test/env: SPIRE, Vault, Dex, Redis and the official
// MCP servers.
package integration
