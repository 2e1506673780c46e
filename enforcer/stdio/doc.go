// Package stdio is the local-mode enforcer: it starts an MCP server as a
// child process and relays newline-delimited JSON-RPC between its own
// client (stdin/stdout) and the child's stdin/stdout, passing every client
// message through enforcer.Engine.HandleRequest and every server message
// through HandleResponse.
//
// Writes to each side are serialized, one whole message per write; a call
// waiting for approval does not hold up the others, so responses may reach
// the client out of order, as JSON-RPC allows. A line that is not JSON-RPC
// gets a parse error and is never forwarded; a line over the size limit
// gets an error and the connection goes on. The audit record of every
// client message is in the audit log before anything reaches the child:
// the engine queues the records of a burst, and the relay writes them,
// in one write, just before it writes to the child; if they cannot be
// written, nothing is, and the client gets -32603 errors instead. The
// child's exit ends the
// proxy with the child's exit code; end of input closes the child's stdin.
//
// The client's stdout carries protocol messages only: logs go to the
// injected logger, the child's stderr to Config.Stderr. Message contents
// are never logged.
package stdio
