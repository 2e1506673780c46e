#!/usr/bin/env bash
# make demo-spire: the production-shaped stack on one machine, on loopback.
#
#   SPIRE server + agent     join token; entries by deploy/spire/register.sh
#                            (unix:uid + unix:path: each binary gets only
#                            its own SVID)
#   Vault (dev server)       transit engine, ed25519 key aip-issuer: the
#                            issuer signs every AAT there and holds no key
#   Dex                      the SSO stand-in: alice (aip-admins), bob;
#                            the issuer's confidential client for /bind
#   Redis                    the issuer's store, shared by both enforcers
#                            (proof nonces, revocations over pub/sub)
#   aip-issuer               HTTPS with its X509-SVID; agents authenticate
#                            by their X509-SVIDs (mTLS), users by Dex ID tokens
#   aip-enforcer serve ×2    replicas A and B of one MCP service, SPIFFE mTLS,
#                            each in front of its own server-filesystem (stdio)
#   examples/demo            the agent: the agent SDK with its X509-SVID from
#                            the Workload API and Bob's Dex ID token; and,
#                            as Bob, the SSO binding pages (/bind)
#
# Then the scenarios of `make demo`, plus: the AAT checked against Vault's
# public key, the same agent on replica B, a request replayed on replica B
# (refused: the nonce is in the shared Redis), Bob binding the agent to
# himself through the issuer's SSO pages and the agent acting on that
# binding with its X509-SVID alone, and a revocation enforced by both
# replicas with the measured delay. Exits non-zero if a scenario fails.
# Tokens and keys are never printed.
#
# Demo shortcuts (not for production): Vault's dev server and root token;
# Dex logins by the password grant; the SSO binding pages driven by a
# scripted HTTP client (a person uses a browser); the SPIRE agent's
# insecure_bootstrap. The enforcers check the issuer's SVID with the
# Workload API's bundle (issuers[].spiffe_id); the aip CLI, curl and the
# binding pages reach the issuer by its DNS name localhost (in its SVID)
# with a snapshot of the SPIRE bundle (bundle.pem), which does not follow a
# CA rotation.
#
# AIP_DEMO_KEEP=1 keeps the temporary directory (configs, logs, audit logs);
# AIP_BIN=DIR takes the aip binaries from DIR instead of bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${AIP_BIN:-$root/bin} # aip, aip-issuer, aip-enforcer (make build)
tools=$root/.tools/bin
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/     /'; return "${PIPESTATUS[0]}"; }

spire_server=${SPIRE_SERVER:-$tools/spire-server}
spire_agent=${SPIRE_AGENT:-$tools/spire-agent}
vault=${VAULT:-$tools/vault}
dex=${DEX:-$tools/dex}
redis_server=${REDIS_SERVER:-$(command -v redis-server || echo redis-server)}
node_modules=${MCP_SERVERS_DIR:-$root/tools/mcp/node_modules}
server_js=$node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
for b in "$spire_server" "$spire_agent" "$vault" "$dex" "$redis_server" "$bin/aip" "$bin/aip-issuer" "$bin/aip-enforcer"; do
	if ! [ -x "$b" ] && ! command -v "$b" >/dev/null; then
		echo "demo-spire: $b is missing: run \`make tools build\` (or set SPIRE_SERVER, SPIRE_AGENT, VAULT, DEX, REDIS_SERVER)" >&2
		exit 1
	fi
done
[ -f "$server_js" ] || { echo "demo-spire: $server_js is missing: run \`make mcp-servers\` (or set MCP_SERVERS_DIR)" >&2; exit 1; }
command -v node >/dev/null || { echo "demo-spire: node is missing: install Node.js 20+" >&2; exit 1; }

# Unix socket paths are limited to 108 bytes: a short directory.
work=$(mktemp -d /tmp/aip-spire.XXXXXX)
pids=()
status=1
interrupted=0
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "$interrupted" = 1 ]; then
		rm -rf "$work"
		echo "interrupted; stopped everything and removed $work"
	elif [ "$status" -ne 0 ]; then
		for log in "$work"/*.log; do
			[ -s "$log" ] || continue
			printf '\n\033[1m== %s (last 20 lines)\033[0m\n' "$log"
			tail -n 20 "$log"
		done
		echo "kept $work for inspection"
	elif [ "${AIP_DEMO_KEEP:-}" = 1 ]; then
		echo "kept $work (AIP_DEMO_KEEP=1)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'interrupted=1; exit 130' INT TERM

# start NAME CMD...: run CMD in the background, output to $work/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	pids+=("$!")
	last_pid=$!
}

# wait_for NAME PID SECONDS CMD...: until CMD succeeds; fail when the
# process exits or time is up, with the end of its log.
wait_for() {
	local name=$1 pid=$2 timeout=$3
	shift 3
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "   $name exited during startup; the end of $work/$name.log:"
			tail -n 20 "$work/$name.log" | sed 's/^/     /'
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "   $name not ready after ${timeout}s; the end of $work/$name.log:"
			tail -n 20 "$work/$name.log" | sed 's/^/     /'
			return 1
		fi
		sleep 0.1
	done
}
step() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$work/steps.tsv"; }
: >"$work/steps.tsv"

say "0. building the scripted agent (examples/demo)"
go build -o "$work/demo" ./examples/demo
demo=$work/demo
port() { "$demo" freeport; }
td=aip.demo
node_id=spiffe://$td/node/demo
issuer_id=spiffe://$td/aip/issuer
enf_a_id=spiffe://$td/aip/enforcer/files-1
enf_b_id=spiffe://$td/aip/enforcer/files-2
agent_id=spiffe://$td/agent/demo-agent
mkdir -p "$work/spire" "$work/vault" "$work/issuer" "$work/project" "$work/home/.ssh"
echo "# Demo project" >"$work/project/README.md"
printf 'region=eu-west-1\naws_access_key_id=AKIAABCDEFGHIJKLMNOP\n' >"$work/project/config.env.txt"
echo "-----BEGIN OPENSSH PRIVATE KEY----- (demo)" >"$work/home/.ssh/id_ed25519"
echo "   work dir $work (logs: *.log)"

say "1. SPIRE server and agent (trust domain $td, join token)"
spire_port=$(port)
server_sock=$work/spire/server.sock
agent_sock=$work/spire/agent.sock
workload_api=unix://$agent_sock
cat >"$work/spire/server.conf" <<EOF
server {
  bind_address = "127.0.0.1"
  bind_port = "$spire_port"
  socket_path = "$server_sock"
  trust_domain = "$td"
  data_dir = "$work/spire/server-data"
  log_level = "INFO"
  ca_ttl = "24h"
  default_x509_svid_ttl = "1h"
  experimental { cache_reload_interval = "500ms" }
}
plugins {
  DataStore "sql" { plugin_data { database_type = "sqlite3" connection_string = "$work/spire/server-data/datastore.sqlite3" } }
  NodeAttestor "join_token" { plugin_data {} }
  KeyManager "memory" { plugin_data {} }
}
EOF
cat >"$work/spire/agent.conf" <<EOF
agent {
  data_dir = "$work/spire/agent-data"
  log_level = "INFO"
  server_address = "127.0.0.1"
  server_port = "$spire_port"
  socket_path = "$agent_sock"
  trust_domain = "$td"
  insecure_bootstrap = true
  experimental { sync_interval = "500ms" }
}
plugins {
  NodeAttestor "join_token" { plugin_data {} }
  KeyManager "memory" { plugin_data {} }
  WorkloadAttestor "unix" { plugin_data { discover_workload_path = true } }
}
EOF
start spire-server "$spire_server" run -config "$work/spire/server.conf"
wait_for spire-server "$last_pid" 30 "$spire_server" healthcheck -socketPath "$server_sock"
token=$("$spire_server" token generate -socketPath "$server_sock" -spiffeID "$node_id" -ttl 600 | sed -n 's/^Token: *//p')
[ -n "$token" ] || { echo "   spire-server token generate printed no token"; exit 1; }
start spire-agent "$spire_agent" run -config "$work/spire/agent.conf" -joinToken "$token"
wait_for spire-agent "$last_pid" 30 "$spire_agent" healthcheck -socketPath "$agent_sock"
"$spire_server" bundle show -socketPath "$server_sock" >"$work/bundle.pem"
echo "   server 127.0.0.1:$spire_port, agent $node_id, Workload API $workload_api"
step "SPIRE server and agent" "node attested" PASS "$node_id by join token"

say "2. registration entries: deploy/spire/register.sh (unix:uid + unix:path selectors)"
uid=$(id -u)
if run deploy/spire/register.sh --server-bin "$spire_server" --socket "$server_sock" --trust-domain "$td" --parent "$node_id" \
	--issuer-selectors "unix:uid:$uid,unix:path:$bin/aip-issuer" --issuer-dns localhost \
	--enforcer "files-1=unix:uid:$uid,unix:path:$bin/aip-enforcer" \
	--enforcer "files-2=unix:uid:$uid,unix:path:$bin/aip-enforcer" \
	--agent "demo-agent=unix:uid:$uid,unix:path:$demo"; then
	step "SPIRE entries registered" "4 entries" PASS "issuer, enforcers files-1 and files-2, agent demo-agent"
else
	step "SPIRE entries registered" "4 entries" FAIL "deploy/spire/register.sh failed"
	exit 1
fi

say "3. Vault (dev server): transit engine, ed25519 key aip-issuer"
vault_port=$(port)
vault_url=http://127.0.0.1:$vault_port
echo root >"$work/vault/token"
chmod 600 "$work/vault/token"
start vault env HOME="$work/vault" "$vault" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$vault_port" -dev-no-store-token
wait_for vault "$last_pid" 30 curl -fsS "$vault_url/v1/sys/health"
export VAULT_ADDR=$vault_url VAULT_TOKEN=root
run "$vault" secrets enable transit
run "$vault" write -f -field=type transit/keys/aip-issuer type=ed25519 exportable=false
unset VAULT_TOKEN
step "Vault transit key" "ed25519" PASS "transit/keys/aip-issuer, not exportable"

say "4. Dex (users alice@example.com in aip-admins, bob@example.com in engineering) and Redis"
dex_port=$(port)
dex_url=http://127.0.0.1:$dex_port
dex_client=(-dex "$dex_url" -client-id aip-demo -client-secret aip-demo-secret)
issuer_port=$(port)
issuer_url=https://localhost:$issuer_port
# The issuer's own confidential client (SSO binding: code flow to /bind/callback).
printf aip-sso-secret >"$work/issuer/sso-secret"
head -c 32 /dev/urandom >"$work/issuer/sso-state.key"
chmod 600 "$work/issuer/sso-secret" "$work/issuer/sso-state.key"
"$demo" dex-config -issuer "$dex_url" -listen "127.0.0.1:$dex_port" -client-id aip-demo -client-secret aip-demo-secret \
	-sso-client-id aip-sso -sso-client-secret aip-sso-secret -sso-redirect "$issuer_url/bind/callback" -out "$work/dex.yaml"
start dex "$dex" serve "$work/dex.yaml"
wait_for dex "$last_pid" 20 curl -fsS "$dex_url/.well-known/openid-configuration"
redis_port=$(port)
start redis "$redis_server" --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" --daemonize no
wait_for redis "$last_pid" 10 redis-cli -p "$redis_port" ping
echo "   Dex $dex_url, Redis 127.0.0.1:$redis_port"

say "5. aip-issuer: Vault signer, Redis store, SPIFFE mTLS, Dex as identity provider and for SSO"
a_port=$(port)
b_port=$(port)
mcp_url=https://127.0.0.1:$a_port/mcp
policy=$work/policy.yaml
sed "s#/home/agent/project#$work/project#g" examples/policies/filesystem.yaml >"$policy"
cat >>"$policy" <<'YAML'
  dlp:
    patterns:
      - name: aws_access_key
        regex: "AKIA[0-9A-Z]{16}"
        scope: response
YAML
policy_hash=$("$bin/aip" policy hash "$policy")
cat >"$work/issuer.yaml" <<YAML
listen: "127.0.0.1:$issuer_port"
issuer_url: "$issuer_url"
tls: {spiffe: true, spiffe_id: "$issuer_id"}
spiffe: {workload_api_addr: "$workload_api", trust_domain: "$td"}
signer: {type: vault, algorithm: EdDSA, address: "$vault_url", token_file: "$work/vault/token", mount: transit, key: aip-issuer}
store: {type: redis, addrs: ["127.0.0.1:$redis_port"], prefix: aipdemo}
identity_providers:
  - {name: dex, issuer_url: "$dex_url", audience: aip-demo, claims: {user_id: email}}
admins: {oidc_groups: [aip-admins]}
sso:
  provider: dex
  client_id: aip-sso
  client_secret_file: "$work/issuer/sso-secret"
  redirect_url: "$issuer_url/bind/callback"
  state_key_file: "$work/issuer/sso-state.key"
  max_binding_ttl: 24h
audit: {path: "$work/issuer/issuer-audit.jsonl"}
policies: {"$mcp_url": "$policy_hash"}
YAML
run "$bin/aip-issuer" validate -config "$work/issuer.yaml"
start issuer "$bin/aip-issuer" serve -config "$work/issuer.yaml"
wait_for issuer "$last_pid" 30 curl -fsS --cacert "$work/bundle.pem" "$issuer_url/readyz"
echo "   issuer $issuer_url ready: serves $issuer_id, signs with Vault transit key aip-issuer"
step "issuer on SPIFFE mTLS" "ready" PASS "$issuer_url, its X509-SVID verified with the SPIRE bundle"

say "6. alice (aip-admins at Dex) registers the agent by its SPIFFE ID"
"$demo" dex-token "${dex_client[@]}" -user alice@example.com -out "$work/alice.token"
export AIP_ISSUER=$issuer_url
admin=(--ca "$work/bundle.pem" --admin-token-file "$work/alice.token")
if run "$bin/aip" agent register "${admin[@]}" --id demo-agent --name "make demo-spire agent" --owner alice@example.com \
	--spiffe-id "$agent_id" --allow-group engineering \
	--capability read_text_file,list_allowed_directories,write_file,move_file,edit_file; then
	step "agent registered" "by an admin" PASS "demo-agent = $agent_id, for group engineering (admin: alice via Dex)"
else
	step "agent registered" "by an admin" FAIL "aip agent register failed"
fi
run "$bin/aip" agent aid "${admin[@]}" --out "$work/agent.aid" demo-agent || true
if run "$bin/aip" agent verify-aid --ca "$work/bundle.pem" "$work/agent.aid"; then
	step "signed AID verified" "valid AID" PASS "signed by the Vault transit key, checked against the issuer's JWKS"
else
	step "signed AID verified" "valid AID" FAIL "aip agent verify-aid failed"
fi

say "7. SSO binding: bob@example.com binds demo-agent to himself at $issuer_url/bind?agent=demo-agent"
echo "   the pages are plain HTML forms (no JavaScript): a person does this in a browser; here an"
echo "   HTTP client with a cookie jar plays the browser (test/sso drives the same pages with Chromium)."
echo "   Bob signs in at Dex and allows 2 of the agent's 5 tools for 1 hour."
binding_scope=read_text_file,list_allowed_directories
if "$demo" sso-bind -issuer "$issuer_url" -ca "$work/bundle.pem" -agent demo-agent -user bob@example.com \
	-scope "$binding_scope" -duration 1h -out "$work/binding.id"; then
	step "SSO binding by the user" "Agent bound" PASS "bob@example.com -> demo-agent: $binding_scope, 1h ($(cat "$work/binding.id"))"
else
	step "SSO binding by the user" "Agent bound" FAIL "demo sso-bind failed"
	: >"$work/binding.id"
fi
printf '   $ %s\n' "$bin/aip bindings list --ca ... --admin-token-file ... --agent demo-agent"
"$bin/aip" bindings list "${admin[@]}" --agent demo-agent >"$work/bindings.txt" 2>&1 || true
sed 's/^/     /' "$work/bindings.txt"
if [ -s "$work/binding.id" ] && grep -qF "$(cat "$work/binding.id")" "$work/bindings.txt"; then
	step "aip bindings list" "the binding" PASS "lists $(cat "$work/binding.id") (as alice, an admin)"
else
	step "aip bindings list" "the binding" FAIL "the binding is not listed"
fi

say "8. aip-enforcer serve ×2: replicas A and B of one MCP service, shared Redis"
echo "   both serve the public URL $mcp_url (as behind a load balancer), each in front of"
echo "   its own server-filesystem; SPIFFE mTLS, agents spiffe://$td/agent/* only; the issuer's"
echo "   keys and revocations fetched over HTTPS checked as its SVID $issuer_id"
# enforcer_config R PORT SPIFFE_ID: replica R's config.
enforcer_config() {
	cat >"$work/enforcer-$1.yaml" <<YAML
listen: "127.0.0.1:$2"
public_url: "https://127.0.0.1:$a_port"
upstream: {command: [node, "$server_js", "$work/project"]}
policy: {path: "$policy"}
audit: {path: "$work/enforcer-$1-audit.jsonl"}
audience: "$mcp_url"
issuers: [{issuer: "$issuer_url", spiffe_id: "$issuer_id"}]
tls:
  mode: spiffe
  workload_api_addr: "$workload_api"
  trust_domains: [$td]
  id_patterns: ["spiffe://$td/agent/*"]
  spiffe_id: "$3"
redis: {addrs: ["127.0.0.1:$redis_port"], prefix: aipdemo, timeout: 500ms}
YAML
}
enforcer_config a "$a_port" "$enf_a_id"
enforcer_config b "$b_port" "$enf_b_id"
enforcer_env=(env HOME="$work/home") # the home holding ~/.ssh, a protected path
start enforcer-a "${enforcer_env[@]}" "$bin/aip-enforcer" serve -config "$work/enforcer-a.yaml"
enf_a_pid=$last_pid
start enforcer-b "${enforcer_env[@]}" "$bin/aip-enforcer" serve -config "$work/enforcer-b.yaml"
enf_b_pid=$last_pid
wait_for enforcer-a "$enf_a_pid" 30 "$demo" probe -workload-api "$workload_api" -id "$agent_id" -server "$enf_a_id" "https://127.0.0.1:$a_port/readyz"
wait_for enforcer-b "$enf_b_pid" 30 "$demo" probe -workload-api "$workload_api" -id "$agent_id" -server "$enf_b_id" "https://127.0.0.1:$b_port/readyz"
echo "   A 127.0.0.1:$a_port ($enf_a_id), B 127.0.0.1:$b_port ($enf_b_id): ready"
step "two enforcer replicas" "ready" PASS "A :$a_port and B :$b_port, mTLS with their SVIDs, one Redis"

say "9. the scripted agent"
if "$demo" spire-agent -issuer "$issuer_url" -mcp "$mcp_url" -replica-b "127.0.0.1:$b_port" \
	-workload-api "$workload_api" -agent-spiffe-id "$agent_id" -issuer-spiffe-id "$issuer_id" \
	-enforcer-spiffe-ids "$enf_a_id,$enf_b_id" "${dex_client[@]}" -user bob@example.com \
	-root "$work/project" -aip "$bin/aip" -ca "$work/bundle.pem" -admin-token-file "$work/alice.token" -agent-id demo-agent \
	-vault "$vault_url" -vault-token-file "$work/vault/token" -vault-key aip-issuer \
	-enforcer-audits "$work/enforcer-a-audit.jsonl,$work/enforcer-b-audit.jsonl" \
	-issuer-audit "$work/issuer/issuer-audit.jsonl" -steps-file "$work/steps.tsv" \
	-binding-file "$work/binding.id" -binding-scope "$binding_scope"; then
	status=0
fi
exit "$status"
