// Package policy is the AgentPolicy engine: it parses, validates, hashes and
// compiles AIP policies (aip.io/v1alpha1–v1alpha3) and decides every
// client→server MCP message. It does no I/O on the wire: the stdio proxy and
// the HTTP sidecar call it and turn a Decision into a forwarded message or a
// JSON-RPC error. It never logs; it never sees tokens.
//
//	doc, err := policy.ReadFile(path)          // strict: unknown keys are errors with key paths
//	p, err := policy.Compile(doc, policy.Options{PolicyPath: path})
//	d := p.Evaluate(ctx, method, params)        // method check, then tools/call rules
//	if !d.Action.Forward() { /* reply with d.Code, d.Message, d.Data */ }
//
// Requests and notifications are decided; responses (messages with no
// method member) are not, and callers forward them without asking. An
// empty method is refused (-32006) in every mode. The policy file, and
// the enforcer's own files in Options.ExtraProtected (its audit log), are
// protected paths whatever the policy says.
//
// Order for tools/call: rate limit → protected paths → tool_rules (block,
// ask) → allowed_tools → allow_args → strict_args → allow. In monitor mode
// violations become ActionAllowMonitor, except rate limits and protected
// paths, which are enforced even when the method tools/call is itself a
// violation. Any error while deciding is a deny (fail closed).
//
// A denial's Reason, repeated in Data["reason"], names the rule by its key
// path (spec.tool_rules[2], spec.protected_paths[0]) and says what to
// change. It never holds an argument value.
//
// An allow_args regex sees the argument as a string: strings as they are,
// null as "", booleans as true/false, integers exactly as sent, other
// numbers in shortest decimal form without exponent (1e3 → 1000), arrays
// and objects as compact JSON with keys sorted as RFC 8785 sorts them,
// strings escaped as RFC 8785 does (no HTML escaping: "<" stays "<"), and
// numbers inside by the same rule as at top level.
//
// Signatures: SignYAML sets metadata.signature; Options.TrustedKey makes
// Compile verify it (ErrSignatureInvalid; LoadFailure gives -32010).
// ReadPublicKey and ReadPrivateKey read PEM ed25519 keys.
//
// Names of tools and methods are compared after Normalize (NFKC, lowercase,
// no control or format characters, trimmed).
//
// # Policy tests
//
// `aip policy test FILE...` runs test files, in the manner of `opa test`:
//
//	policy: filesystem.yaml        # relative to this file
//	home: /home/agent              # "~" in paths (default /home/agent)
//	workdir: /home/agent/project   # base of relative paths (default /)
//	tests:
//	  - name: reading an ssh key is refused
//	    request:                   # a JSON-RPC request in YAML
//	      method: tools/call
//	      params: {name: read_text_file, arguments: {path: ~/.ssh/id_rsa}}
//	    repeat: 1                  # optional, 1–10000: send N times, check the last
//	    expect:                    # only the fields given are checked
//	      decision: deny           # allow | deny | ask | allow_monitor
//	      code: -32007
//	      audit: BLOCK             # ALLOW | BLOCK | ALLOW_MONITOR | RATE_LIMITED
//	      failed_rule: protected_path
//	      failed_arg: path
//	      reason_contains: protected
//
// Each case runs against a freshly compiled policy with its own rate limiter
// on a frozen clock.
package policy
