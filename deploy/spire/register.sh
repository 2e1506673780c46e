#!/usr/bin/env bash
# register.sh: SPIRE registration entries for aip, created or brought up to
# date (run it again after a change: it is idempotent).
#
#   spiffe://TD/aip/issuer              aip-issuer (serves its SVID over HTTPS,
#                                       verifies agents' SVIDs)
#   spiffe://TD/aip/enforcer/NAME       one aip-enforcer serve (--enforcer NAME)
#   spiffe://TD/agent/NAME              one agent (--agent NAME); register it at
#                                       the issuer with the same ID
#                                       (aip agent register --spiffe-id ...)
#
# The IDs match the defaults elsewhere: the issuer's spiffe.id_template
# (/agent/{agent_id}), the enforcers' tls.id_patterns
# (spiffe://TD/agent/*), the Helm chart's IDs.
#
# Selectors: --mode picks the defaults, NAME=SEL,SEL overrides them for one
# workload.
#   unix (systemd, deploy/systemd/): a workload is told apart by the user it
#     runs as (the units run as aip-issuer and aip-enforcer; an agent as the
#     user named like it). Add unix:path:/usr/local/bin/aip-issuer (or
#     unix:sha256:...) to also pin the binary; path and sha256 selectors need
#     discover_workload_path = true in the agent's WorkloadAttestor "unix".
#       issuer        unix:user:aip-issuer
#       enforcer NAME unix:user:aip-enforcer
#       agent NAME    unix:user:NAME
#     All aip-enforcer@ instances on a host run as aip-enforcer, so each gets
#     every enforcer SVID of that host and picks its own (tls.spiffe_id).
#   k8s (the Helm chart, WorkloadAttestor "k8s"): by namespace and service
#     account. Use the names of your release (kubectl get sa -n NS).
#       issuer        k8s:ns:NS  k8s:sa:aip-issuer
#       enforcer NAME k8s:ns:NS  k8s:sa:NAME   (the MCP server pod's account)
#       agent NAME    k8s:ns:AGENT_NS k8s:sa:NAME
#     With the SPIRE Controller Manager, ClusterSPIFFEIDs replace this script.
#
# The parent is the SPIRE agent the workloads run under: its node ID (join
# token: spiffe://TD/spire/agent/join_token/TOKEN, or the ID you gave the
# token), or a node alias covering several nodes (entry create -node).
#
# Examples:
#   # one host, systemd units, two enforcers, one agent run by user alice
#   register.sh --trust-domain example.org --parent spiffe://example.org/node/host1 \
#       --issuer-dns aip-issuer.example.org --enforcer files --enforcer git --agent alice-coder=unix:user:alice
#   # Kubernetes, the chart in namespace aip, agents in namespace agents
#   register.sh --mode k8s --namespace aip --agent-namespace agents --trust-domain example.org \
#       --parent spiffe://example.org/k8s-nodes --enforcer files --agent coder
#
# Entry IDs are fixed (aip-issuer, aip-enforcer-NAME, aip-agent-NAME) so a
# second run updates the same entries instead of adding copies.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: register.sh --trust-domain TD --parent ID [options]
  --socket PATH            spire-server API socket (default: SPIRE's, /tmp/spire-server/private/api.sock)
  --server-bin PATH        spire-server binary (default: $SPIRE_SERVER, else spire-server on PATH)
  --trust-domain TD        the trust domain, e.g. example.org (required)
  --parent ID              parent SPIFFE ID of the entries: the SPIRE agent's node ID or alias (required)
  --mode unix|k8s          default selectors (default unix)
  --namespace NS           k8s: namespace of the issuer and enforcers (default aip)
  --agent-namespace NS     k8s: namespace of the agents (default: --namespace)
  --issuer-sa NAME         k8s: the issuer's service account (default aip-issuer)
  --issuer-selectors SELS  the issuer's selectors, comma-separated (overrides --mode)
  --issuer-dns NAME        a DNS name in the issuer's SVID (repeatable; for clients
                           that check the host name, e.g. a JWKS fetch over HTTPS)
  --no-issuer              no issuer entry
  --enforcer NAME[=SELS]   an enforcer (repeatable)
  --agent NAME[=SELS]      an agent (repeatable)
  --x509-ttl SECONDS       X509-SVID lifetime of the entries (default: the server's)
  --dry-run                print the spire-server commands, run nothing
EOF
}

die() {
	echo "register.sh: $*" >&2
	exit 2
}

socket=/tmp/spire-server/private/api.sock
server_bin=${SPIRE_SERVER:-spire-server}
td="" parent="" mode=unix ns=aip agent_ns="" issuer_sa=aip-issuer
issuer_sels="" issuer=1 dry_run=0 x509_ttl=""
issuer_dns=() enforcers=() agents=()
while [ $# -gt 0 ]; do
	case $1 in
	--socket) socket=${2:?--socket needs a PATH}; shift ;;
	--server-bin) server_bin=${2:?--server-bin needs a PATH}; shift ;;
	--trust-domain) td=${2:?--trust-domain needs a value}; shift ;;
	--parent) parent=${2:?--parent needs an ID}; shift ;;
	--mode) mode=${2:?--mode needs unix or k8s}; shift ;;
	--namespace) ns=${2:?--namespace needs a value}; shift ;;
	--agent-namespace) agent_ns=${2:?--agent-namespace needs a value}; shift ;;
	--issuer-sa) issuer_sa=${2:?--issuer-sa needs a value}; shift ;;
	--issuer-selectors) issuer_sels=${2:?--issuer-selectors needs selectors}; shift ;;
	--issuer-dns) issuer_dns+=("${2:?--issuer-dns needs a name}"); shift ;;
	--no-issuer) issuer=0 ;;
	--enforcer) enforcers+=("${2:?--enforcer needs a NAME}"); shift ;;
	--agent) agents+=("${2:?--agent needs a NAME}"); shift ;;
	--x509-ttl) x509_ttl=${2:?--x509-ttl needs seconds}; shift ;;
	--dry-run) dry_run=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument $1" ;;
	esac
	shift
done

[ -n "$td" ] || die "--trust-domain is required (e.g. --trust-domain example.org)"
[[ $td =~ ^[a-z0-9._-]+$ ]] || die "--trust-domain $td: want lowercase letters, digits, '.', '-' and '_' only (no scheme)"
[ -n "$parent" ] || die "--parent is required: the SPIFFE ID of the SPIRE agent (node) the workloads run under"
[[ $parent == spiffe://"$td"/* ]] || die "--parent $parent: want a SPIFFE ID in trust domain $td (spiffe://$td/...)"
case $mode in unix | k8s) ;; *) die "--mode $mode: want unix or k8s" ;; esac
[ -n "$agent_ns" ] || agent_ns=$ns
[ -z "$x509_ttl" ] || [[ $x509_ttl =~ ^[1-9][0-9]*$ ]] || die "--x509-ttl $x509_ttl: want a whole number of seconds"
[ "$issuer" = 1 ] || [ ${#enforcers[@]} -gt 0 ] || [ ${#agents[@]} -gt 0 ] || die "nothing to register: give --enforcer or --agent, or drop --no-issuer"

# default_selectors KIND NAME: the --mode selectors of a workload.
default_selectors() {
	case $mode/$1 in
	unix/issuer) echo "unix:user:aip-issuer" ;;
	unix/enforcer) echo "unix:user:aip-enforcer" ;;
	unix/agent) echo "unix:user:$2" ;;
	k8s/issuer) echo "k8s:ns:$ns,k8s:sa:$issuer_sa" ;;
	k8s/enforcer) echo "k8s:ns:$ns,k8s:sa:$2" ;;
	k8s/agent) echo "k8s:ns:$agent_ns,k8s:sa:$2" ;;
	esac
}

# check_name KIND NAME: a name becomes a path segment and an entry ID.
check_name() {
	[[ $2 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "--$1 $2: want letters, digits, '.', '-' and '_' (it becomes spiffe://$td/.../$2)"
}

# check_selectors SELS: type:value pairs, comma-separated.
check_selectors() {
	local s parts
	IFS=, read -ra parts <<<"$1"
	[ ${#parts[@]} -gt 0 ] || die "empty selector list"
	for s in "${parts[@]}"; do
		[[ $s =~ ^[a-z0-9_]+:.+ ]] || die "selector $s: want type:value, e.g. unix:uid:1000 or k8s:sa:coder"
	done
}

# register ENTRY_ID SPIFFE_ID SELS [DNS...]: create the entry, or update it
# to this state when it exists.
register() {
	local id=$1 spiffe_id=$2 sels=$3
	shift 3
	check_selectors "$sels"
	local args=(-socketPath "$socket" -entryID "$id" -parentID "$parent" -spiffeID "$spiffe_id")
	local s d list
	IFS=, read -ra list <<<"$sels"
	for s in "${list[@]}"; do args+=(-selector "$s"); done
	for d in "$@"; do args+=(-dns "$d"); done
	[ -z "$x509_ttl" ] || args+=(-x509SVIDTTL "$x509_ttl")
	if [ "$dry_run" = 1 ]; then
		echo "$server_bin entry create ${args[*]}"
		return
	fi
	local out
	if out=$("$server_bin" entry create "${args[@]}" 2>&1); then
		echo "created $spiffe_id (entry $id; $sels)"
		return
	fi
	if ! grep -qiE "already ?exists" <<<"$out"; then
		echo "register.sh: spire-server entry create $spiffe_id failed:" >&2
		echo "$out" >&2
		exit 1
	fi
	if ! out=$("$server_bin" entry update "${args[@]}" 2>&1); then
		echo "register.sh: spire-server entry update $spiffe_id failed:" >&2
		echo "$out" >&2
		exit 1
	fi
	echo "updated $spiffe_id (entry $id; $sels)"
}

# workload KIND SPEC: NAME or NAME=SELS.
workload() {
	local kind=$1 name=${2%%=*} sels=""
	[[ $2 == *=* ]] && sels=${2#*=}
	check_name "$kind" "$name"
	[ -n "$sels" ] || sels=$(default_selectors "$kind" "$name")
	case $kind in
	enforcer) register "aip-enforcer-$name" "spiffe://$td/aip/enforcer/$name" "$sels" ;;
	agent) register "aip-agent-$name" "spiffe://$td/agent/$name" "$sels" ;;
	esac
}

# Check every name and selector before changing anything.
[ -z "$issuer_sels" ] || check_selectors "$issuer_sels"
for spec in "${enforcers[@]/#/enforcer }" "${agents[@]/#/agent }"; do
	kind=${spec%% *} spec=${spec#* }
	check_name "$kind" "${spec%%=*}"
	[[ $spec != *=* ]] || check_selectors "${spec#*=}"
done
if [ "$dry_run" = 0 ]; then
	command -v "$server_bin" >/dev/null || die "spire-server not found ($server_bin): set --server-bin or SPIRE_SERVER"
	[ -S "$socket" ] || die "no spire-server API socket at $socket (is the server running? --socket PATH)"
fi

if [ "$issuer" = 1 ]; then
	register aip-issuer "spiffe://$td/aip/issuer" "${issuer_sels:-$(default_selectors issuer)}" "${issuer_dns[@]}"
fi
for e in "${enforcers[@]}"; do workload enforcer "$e"; done
for a in "${agents[@]}"; do workload agent "$a"; done
