// Package load is the soak load generator behind `make soak`: it starts a
// stack (Redis, an in-process issuer with a local key, the real
// aip-enforcer binary as `serve` with Redis, and an upstream MCP server
// over Streamable HTTP), drives it through the agent SDK and the MCP Go
// SDK client at a constant arrival rate (open loop: latency is measured
// from each call's scheduled send time, so a stalled server is not hidden
// by a stalled generator), and reports latency percentiles, outcomes and
// the enforcer's memory, sampled from /proc and its Go runtime trace.
//
// Only loopback addresses are used. Every process it starts is stopped
// when Run returns. It never logs a token or a key.
package load
