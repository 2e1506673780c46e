// Package approval asks a person whether a tool call marked `ask` in an
// AgentPolicy may go ahead.
//
// An Approver answers one Request: Command runs a configured shell command
// (sh -c CMD) with the request as JSON on its stdin, in the manner of
// ssh-askpass, and TTY prompts on the controlling terminal. Gate wraps an
// Approver with the approval timeout, coalesces identical concurrent asks
// and remembers approvals: an approval covers exactly one tool with one set
// of canonical arguments, under one policy hash, for one agent and user.
//
// It never logs arguments, tokens or secrets; a Request's arguments go only
// to the approver.
package approval
