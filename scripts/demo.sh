#!/usr/bin/env bash
# make demo: the main job on embedded defaults, no external service.
#
# The issuer (local key, file store, local user, admin API on a Unix socket
# authorized by the caller's uid), a native-key agent registered with a
# signed AID, aip-enforcer serve (plain HTTP on loopback,
# DPoP-bound tokens) in front of the real @modelcontextprotocol/server-filesystem
# (a stdio server it starts), and a scripted agent (examples/demo: the MCP Go
# SDK over identity/agent) that runs each scenario and prints a summary table.
# Exits non-zero if a scenario fails. Tokens and keys are never printed.
#
# AIP_DEMO_KEEP=1 keeps the temporary directory (configs, logs, audit logs).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/     /'; return "${PIPESTATUS[0]}"; }

node_modules=${MCP_SERVERS_DIR:-$PWD/tools/mcp/node_modules}
server_js=$node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
if [ ! -f "$server_js" ]; then
	say "installing the pinned MCP servers (npm ci in tools/mcp)"
	make --no-print-directory mcp-servers >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aip-demo.XXXXXX")
pids=()
status=1
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "$status" -ne 0 ]; then
		for log in "$work"/*.log; do
			[ -s "$log" ] || continue
			printf '\n\033[1m== %s (last 40 lines)\033[0m\n' "$log"
			tail -n 40 "$log"
		done
		echo "kept $work for inspection"
	elif [ "${AIP_DEMO_KEEP:-}" = 1 ]; then
		echo "kept $work (AIP_DEMO_KEEP=1)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_url URL NAME LOG PID: wait until URL answers 200, or fail.
wait_url() {
	for _ in $(seq 1 200); do
		if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
		if ! kill -0 "$4" 2>/dev/null; then echo "   $2 exited; see $3"; return 1; fi
		sleep 0.05
	done
	echo "   $2 did not become ready; see $3"
	return 1
}
step() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$work/steps.tsv"; }

project=$work/project
home=$work/home
mkdir -p "$project" "$home/.ssh" "$work/issuer"
echo "# Demo project" > "$project/README.md"
printf 'region=eu-west-1\naws_access_key_id=AKIAABCDEFGHIJKLMNOP\n' > "$project/config.env.txt"
echo "-----BEGIN OPENSSH PRIVATE KEY----- (demo)" > "$home/.ssh/id_ed25519"
: > "$work/steps.tsv"

say "0. building the scripted agent (examples/demo)"
go build -o "$work/demo" ./examples/demo
demo=$work/demo
issuer_port=$("$demo" freeport)
enforcer_port=$("$demo" freeport)
issuer_url=http://127.0.0.1:$issuer_port
mcp_url=http://127.0.0.1:$enforcer_port/mcp
user=$(id -un)
echo "   work dir $work; logs: $work/{issuer,enforcer}.log"

policy=$work/policy.yaml
sed "s#/home/agent/project#$project#g" examples/policies/filesystem.yaml > "$policy"
cat >> "$policy" <<'YAML'
  dlp:
    patterns:
      - name: aws_access_key
        regex: "AKIA[0-9A-Z]{16}"
        scope: response
YAML
policy_hash=$("$bin/aip" policy hash "$policy")

say "1. aip-issuer serve: local signing key, file store, local user, admin socket"
echo "   No identity provider and no SPIRE: the user binding is the local user, and the"
echo "   admin API (/v1/agents, /v1/revocations) is also served on a Unix socket, as"
echo "   SPIRE serves its own (admins.socket): a caller there is an administrator only"
echo "   if the kernel (SO_PEERCRED) says it runs as an allowed uid, by default the"
echo "   issuer's own. No admin token exists anywhere in this demo."
admin_socket=$work/issuer/admin.sock
cat > "$work/issuer.yaml" <<YAML
listen: "127.0.0.1:$issuer_port"
issuer_url: "$issuer_url"
signer: {type: local, key_file: "$work/issuer/issuer-key.pem"}
store: {type: file, path: "$work/issuer"}
admins: {socket: {path: "$admin_socket"}}
local_user: {enabled: true}
audit: {path: "$work/issuer/issuer-audit.jsonl"}
policies: {"$mcp_url": "$policy_hash"}
YAML
"$bin/aip-issuer" serve -config "$work/issuer.yaml" >"$work/issuer.log" 2>&1 &
issuer_pid=$!
pids+=("$issuer_pid")
wait_url "$issuer_url/readyz" aip-issuer "$work/issuer.log" "$issuer_pid"
echo "   issuer $issuer_url ready (user binding: local user $user)"
echo "   admin socket $admin_socket ($(stat -c '%A, owner %U' "$admin_socket"); admin: uid $(id -u))"

say "2. a native-key agent: keygen, register (admin, over the socket), signed AID"
export AIP_ISSUER=$issuer_url
run "$bin/aip" agent keygen --out "$work/agent.key"
run "$bin/aip" agent register --admin-socket "$admin_socket" --id demo-agent --name "make demo agent" \
	--owner "$user" --key "$work/agent.key.pub" --allow-user "$user" \
	--capability read_text_file,list_allowed_directories,write_file,move_file,edit_file
step "agent registered" "native key" PASS "demo-agent, acting for local user $user (admin: uid $(id -u) on the socket)"
run "$bin/aip" agent aid --admin-socket "$admin_socket" --out "$work/agent.aid" demo-agent
if run "$bin/aip" agent verify-aid "$work/agent.aid"; then
	step "signed AID verified" "valid AID" PASS "aip agent verify-aid against the issuer's JWKS"
else
	step "signed AID verified" "valid AID" FAIL "aip agent verify-aid failed"
fi

say "3. aip-enforcer serve in front of server-filesystem (stdio upstream)"
echo "   policy examples/policies/filesystem.yaml rooted at $project, + DLP aws_access_key"
echo "   policy hash $policy_hash; plain HTTP on loopback, DPoP-bound tokens required"
cat > "$work/enforcer.yaml" <<YAML
listen: "127.0.0.1:$enforcer_port"
upstream:
  command: [node, "$server_js", "$project"]
policy: {path: "$policy"}
audit: {path: "$work/enforcer-audit.jsonl"}
audience: "$mcp_url"
issuers: [{issuer: "$issuer_url"}]
tls: {mode: plain}
require_proof: true
revocation: {poll_interval: 100ms}
YAML
HOME=$home "$bin/aip-enforcer" serve -config "$work/enforcer.yaml" >"$work/enforcer.log" 2>&1 &
enforcer_pid=$!
pids+=("$enforcer_pid")
wait_url "http://127.0.0.1:$enforcer_port/readyz" aip-enforcer "$work/enforcer.log" "$enforcer_pid"
echo "   enforcer $mcp_url ready (revocations polled from the issuer every 100 ms)"

say "4. the scripted agent"
if "$demo" agent -issuer "$issuer_url" -mcp "$mcp_url" -key "$work/agent.key" -user "$user" -root "$project" \
	-aip "$bin/aip" -admin-socket "$admin_socket" -agent-id demo-agent \
	-enforcer-audit "$work/enforcer-audit.jsonl" -issuer-audit "$work/issuer/issuer-audit.jsonl" \
	-steps-file "$work/steps.tsv"; then
	status=0
fi
exit "$status"
