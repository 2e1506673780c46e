// Package fault holds the fault tests: real components stopped, killed
// and restarted while the aip stack is in use (Redis under load, Vault,
// Dex, the SPIRE agent, an enforcer killed while it writes its audit log).
// Each test asserts what the stack actually does during and after the
// fault; docs/operations.md ("Faults") describes the same behaviours.
package fault
