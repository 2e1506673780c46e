package sidecar

// NewUpstreamClient is the sidecar's upstream client, for the benchmark's
// bare proxy.
var NewUpstreamClient = newUpstreamClient
