#!/usr/bin/env bash
# Runs the federation example on one machine: two SPIRE trust domains,
# a.test and b.test, federated with each other; aip-issuer and aip-enforcer
# (in front of server-everything) in a.test; an agent of b.test that gets an
# AAT from issuer A and calls echo through the enforcer. Then an agent of
# c.test, federated with nobody, is refused. Everything is stopped at the
# end. Needs `make build tools` (bin/, .tools/bin/, tools/mcp/node_modules).
#
#   examples/federation/run.sh            # from the repository root
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/examples/federation
SPIRE_SERVER=${SPIRE_SERVER:-$ROOT/.tools/bin/spire-server}
SPIRE_AGENT=${SPIRE_AGENT:-$ROOT/.tools/bin/spire-agent}
MCP_DIR=${MCP_SERVERS_DIR:-$ROOT/tools/mcp/node_modules}
BASE_PORT=${BASE_PORT:-18080}
A_PORT=$((BASE_PORT + 1)) B_PORT=$((BASE_PORT + 2)) C_PORT=$((BASE_PORT + 3))
A_BUNDLE_PORT=$((BASE_PORT + 11)) B_BUNDLE_PORT=$((BASE_PORT + 12)) C_BUNDLE_PORT=$((BASE_PORT + 13))
ISSUER_PORT=$((BASE_PORT + 21)) ISSUER_BUNDLE_PORT=$((BASE_PORT + 22)) ENFORCER_PORT=$((BASE_PORT + 23))
USER_ID=${USER:-$(id -un)}

for bin in "$SPIRE_SERVER" "$SPIRE_AGENT" "$ROOT/bin/aip" "$ROOT/bin/aip-issuer" "$ROOT/bin/aip-enforcer"; do
	[ -x "$bin" ] || { echo "missing $bin: run make build tools" >&2; exit 1; }
done
[ -d "$MCP_DIR/@modelcontextprotocol/server-everything" ] || { echo "missing MCP servers in $MCP_DIR: run make tools" >&2; exit 1; }

WORK=$(mktemp -d /tmp/aip-fed-XXXXXX)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
echo "work directory: $WORK (removed at the end; logs in it are printed on failure)"
fail() {
	echo "FAILED: $*" >&2
	tail -n 20 "$WORK"/*.log "$WORK"/*/*.log >&2 2>/dev/null || true
	exit 1
}

fill() { # fill TEMPLATE OUT: replace the @...@ placeholders
	sed -e "s|@WORK@|$WORK|g" -e "s|@HERE@|$HERE|g" -e "s|@MCP_DIR@|$MCP_DIR|g" -e "s|@USER@|$USER_ID|g" \
		-e "s|@ISSUER_PORT@|$ISSUER_PORT|g" -e "s|@ISSUER_BUNDLE_PORT@|$ISSUER_BUNDLE_PORT|g" \
		-e "s|@ENFORCER_PORT@|$ENFORCER_PORT|g" -e "s|@B_BUNDLE_PORT@|$B_BUNDLE_PORT|g" \
		-e "s|@TD@|${TD:-}|g" -e "s|@DIR@|${DIR:-}|g" -e "s|@PORT@|${PORT:-}|g" -e "s|@BUNDLE_PORT@|${BUNDLE_PORT:-}|g" \
		"$1" >"$2"
}

wait_for() { # wait_for WHAT COMMAND...: retry for 30 s
	local what=$1
	shift
	for _ in $(seq 150); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "$what"
}

start_spire() { # start_spire NAME PORT BUNDLE_PORT
	local name=$1
	TD=$name.test DIR=$WORK/$name PORT=$2 BUNDLE_PORT=$3
	mkdir -p "$DIR"
	fill "$HERE/spire-server.conf" "$DIR/server.conf"
	fill "$HERE/spire-agent.conf" "$DIR/agent.conf"
	"$SPIRE_SERVER" run -config "$DIR/server.conf" >"$DIR/server.log" 2>&1 &
	PIDS+=($!)
	wait_for "spire-server $TD" "$SPIRE_SERVER" healthcheck -socketPath "$DIR/server.sock"
	local token
	token=$("$SPIRE_SERVER" token generate -socketPath "$DIR/server.sock" -spiffeID "spiffe://$TD/node" -ttl 600 | sed 's/^Token: //')
	"$SPIRE_AGENT" run -config "$DIR/agent.conf" -joinToken "$token" >"$DIR/agent.log" 2>&1 &
	PIDS+=($!)
	wait_for "spire-agent $TD" "$SPIRE_AGENT" healthcheck -socketPath "$DIR/agent.sock"
}

server() { # server NAME ARGS...: spire-server CLI of trust domain NAME
	local name=$1 sub=$2 cmd=$3
	shift 3
	"$SPIRE_SERVER" "$sub" "$cmd" -socketPath "$WORK/$name/server.sock" "$@"
}

echo "== SPIRE: a.test, b.test and c.test"
start_spire a "$A_PORT" "$A_BUNDLE_PORT"
start_spire b "$B_PORT" "$B_BUNDLE_PORT"
start_spire c "$C_PORT" "$C_BUNDLE_PORT"

echo "== federate a.test and b.test (bootstrap bundles, then a refresh)"
server a bundle show -format spiffe >"$WORK/a.bundle.json"
server b bundle show -format spiffe >"$WORK/b.bundle.json"
server a federation create -trustDomain b.test -bundleEndpointURL "https://127.0.0.1:$B_BUNDLE_PORT" \
	-bundleEndpointProfile https_spiffe -endpointSpiffeID spiffe://b.test/spire/server \
	-trustDomainBundlePath "$WORK/b.bundle.json" -trustDomainBundleFormat spiffe >/dev/null
server b federation create -trustDomain a.test -bundleEndpointURL "https://127.0.0.1:$A_BUNDLE_PORT" \
	-bundleEndpointProfile https_spiffe -endpointSpiffeID spiffe://a.test/spire/server \
	-trustDomainBundlePath "$WORK/a.bundle.json" -trustDomainBundleFormat spiffe >/dev/null
server a federation refresh -id spiffe://b.test >/dev/null
server b federation refresh -id spiffe://a.test >/dev/null

echo "== registration entries (every workload here runs as uid $(id -u))"
uid="unix:uid:$(id -u)"
server a entry create -parentID spiffe://a.test/node -spiffeID spiffe://a.test/aip/issuer -selector "$uid" >/dev/null
server a entry create -parentID spiffe://a.test/node -spiffeID spiffe://a.test/aip/enforcer -selector "$uid" >/dev/null
# B's agent federates with a.test: its Workload API gives it a.test's bundle
# to check the issuer's and the enforcer's SVIDs.
server b entry create -parentID spiffe://b.test/node -spiffeID spiffe://b.test/agent/b -selector "$uid" \
	-federatesWith spiffe://a.test >/dev/null
server c entry create -parentID spiffe://c.test/node -spiffeID spiffe://c.test/agent/c -selector "$uid" >/dev/null

echo "== aip-issuer of a.test, federated with b.test"
mkdir -p "$WORK/issuer"
fill "$HERE/issuer.yaml" "$WORK/issuer.yaml"
"$ROOT/bin/aip-issuer" validate -config "$WORK/issuer.yaml"
"$ROOT/bin/aip-issuer" serve -config "$WORK/issuer.yaml" >"$WORK/issuer.log" 2>&1 &
PIDS+=($!)
wait_for "aip-issuer" test -S "$WORK/issuer/admin.sock"
for agent in b c; do
	"$ROOT/bin/aip" agent register --issuer "https://127.0.0.1:$ISSUER_PORT" --admin-socket "$WORK/issuer/admin.sock" \
		--id "agent-$agent" --spiffe-id "spiffe://$agent.test/agent/$agent" --capability echo --allow-user "$USER_ID" >/dev/null
done
echo "registered agent-b (spiffe://b.test/agent/b) and agent-c (spiffe://c.test/agent/c)"

echo "== aip-enforcer of a.test in front of server-everything"
fill "$HERE/enforcer.yaml" "$WORK/enforcer.yaml"
"$ROOT/bin/aip-enforcer" validate -config "$WORK/enforcer.yaml"
"$ROOT/bin/aip-enforcer" serve -config "$WORK/enforcer.yaml" >"$WORK/enforcer.log" 2>&1 &
PIDS+=($!)
wait_for "aip-enforcer" grep -Eq 'msg=serving|"msg":"serving"' "$WORK/enforcer.log"

agent() { # agent NAME [FLAGS...]: the federated agent of trust domain NAME calls echo
	local name=$1
	shift
	(cd "$ROOT" && go run ./examples/federation/agent -spiffe-socket "unix://$WORK/$name/agent.sock" \
		-issuer "https://127.0.0.1:$ISSUER_PORT" -mcp "https://127.0.0.1:$ENFORCER_PORT/mcp" \
		-servers spiffe://a.test/aip/issuer,spiffe://a.test/aip/enforcer -user "$USER_ID" \
		-tool echo -args "{\"message\":\"hello from $name.test\"}" "$@")
}

echo "== the agent of b.test calls echo through the enforcer of a.test"
agent b || fail "the agent of b.test was refused"

echo "== the agent of c.test (not federated) is refused"
# c.test's agent is given a.test's bundle to check the issuer's
# certificate (as if c.test trusted a.test); a.test does not trust c.test,
# so the issuer refuses its SVID, registered or not.
if agent c -server-bundle "$WORK/a.bundle.json"; then fail "the agent of c.test was let in"; fi
echo "refused, as it must be"
echo "== done"
