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
// Order for tools/call: rate limit → protected paths → tool_rules (block,
// ask) → allowed_tools → allow_args → strict_args → allow. In monitor mode
// violations become ActionAllowMonitor, except rate limits and protected
// paths. Any error while deciding is a deny (fail closed).
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
//	    repeat: 1                  # optional: send N times, check the last
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
