#!/usr/bin/env bash
# make demo: the main job on embedded defaults, no external service.
#
# Today it shows the local-mode enforcer: aip-enforcer in front of the real
# @modelcontextprotocol/server-filesystem, driven by a scripted agent using
# the official MCP Go SDK client. The identity half (issuer, registered
# native-key agent, AAT, replay and revocation) joins when the sidecar lands.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

node_modules=${MCP_SERVERS_DIR:-$PWD/tools/mcp/node_modules}
server_js=$node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
if [ ! -f "$server_js" ]; then
	say "installing the pinned MCP servers (npm ci in tools/mcp)"
	make --no-print-directory mcp-servers >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aip-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
project=$work/project
home=$work/home
mkdir -p "$project" "$home/.ssh"
echo "# Demo project" > "$project/README.md"
printf 'region=eu-west-1\naws_access_key_id=AKIAABCDEFGHIJKLMNOP\n' > "$project/config.env.txt"
echo "-----BEGIN OPENSSH PRIVATE KEY----- (demo)" > "$home/.ssh/id_ed25519"

policy=$work/policy.yaml
sed "s#/home/agent/project#$project#g" examples/policies/filesystem.yaml > "$policy"
cat >> "$policy" <<'YAML'
  dlp:
    patterns:
      - name: aws_access_key
        regex: "AKIA[0-9A-Z]{16}"
        scope: response
YAML
audit=$work/audit.jsonl

say "1. the policy (examples/policies/filesystem.yaml, rooted at the demo project)"
"$bin/aip" policy lint "$policy" || true
echo "   policy hash: $("$bin/aip" policy hash "$policy")"

say "2. a scripted agent calls server-filesystem through aip-enforcer stdio"
go run ./examples/stdio-demo -enforcer "$bin/aip-enforcer" -policy "$policy" -audit "$audit" \
	-root "$project" -home "$home" -- node "$server_js" "$project"

say "3. the audit log is hash-chained: aip audit verify"
"$bin/aip" audit verify "$audit"
echo "   $(wc -l < "$audit") records; an excerpt:"
head -n 2 "$audit" | cut -c1-200

say "not shown yet"
echo "   issuer + native-key agent with a signed AID, AAT and DPoP replay refusal, and"
echo "   revocation timing arrive with the sidecar (issues 4, 5, 7)."
