#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# DNS clients the run's proxy must serve as any resolver would (issue 9, network review):
# a client that shuts down its sending side of a TCP connection once its query is out, and
# a stub that asks 127.0.0.1:53 over UDP directly: each gets its answer, and the answer's
# address connects; a name the proxy cannot take (raw UTF-8, not IDNA) gets FORMERR at once
# over UDP and TCP rather than no answer; and the answer's question repeats the query's
# name in the case it was asked (resolvers that randomise it, DNS 0x20, check that); DNS to
# an IPv6 server of the task's own choosing is refused at once and recorded. Same throw-away
# "host" and "internet" namespaces as test-net-egress.sh. Without any configured upstream,
# the host's first IPv4 nameserver is asked; with none, policy check --host and the run
# refuse alike.
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/lib.sh
. "$NET_DIR/lib.sh"
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
net_need /usr/bin/python3 unshare mount

TMP=$(mktemp -d /tmp/airlock-dnscli-XXXXXX)
cleanup() {
	net_world_down
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/ws" "$TMP/state"
cp "$NET_DIR/net-task.py" "$TMP/ws/"
net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }

cat >"$TMP/policy.json" <<'JSON'
{
  "version": 1,
  "name": "net-dns-clients",
  "limits": { "wall_time": "60s" },
  "network": {
    "egress": [
      { "host": "allowed.test", "ports": [443] },
      { "host": "final.test", "ports": [443] }
    ],
    "dns": { "upstream": ["11.1.0.53"] }
  }
}
JSON

# shellcheck disable=SC2054 # the steps are comma-separated on purpose
steps=(
	tcpdns,allowed.test,A,GW tcpdns,final.test,A,GW,half tcp,11.1.0.11,443,1
	resolve,allowed.test,A,127.0.0.1 tcp,11.1.0.10,443,1 resolve,other.test,A,127.0.0.1
	resolve,bücher.test,A tcpdns,bücher.test,A,GW
	qcase,AlLoWeD.TeSt,A qcase,aLLowed.tEST,A,tcp qcase,OtHeR.test,A
	tudp,2600:1::53,53 ttcp,2600:1::53,53
)
net_in_host "$AIRLOCK" run --policy "$TMP/policy.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record.json" \
	-- /usr/bin/python3 /workspace/net-task.py "${steps[@]}" >"$TMP/out" 2>"$TMP/err"
rc=$?
al_ok $rc "networked run exits 0 (got $rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/err"

net_expect "$TMP/out" tcpdns,allowed.test,A,GW '^NOERROR 11\.1\.0\.10 ' \
	"a query over TCP is answered"
net_expect "$TMP/out" tcpdns,final.test,A,GW,half '^NOERROR 11\.1\.0\.11 ' \
	"a TCP client that shuts down its sending side after its query still gets the answer"
net_expect "$TMP/out" tcp,11.1.0.11,443,1 '^ok hello' "and the address of that answer connects"
net_expect "$TMP/out" resolve,allowed.test,A,127.0.0.1 '^NOERROR 11\.1\.0\.10 ' \
	"a UDP query to 127.0.0.1:53 (a stub resolver's address) is answered"
net_expect "$TMP/out" tcp,11.1.0.10,443,1 '^ok hello' "and the address of that answer connects"
net_expect "$TMP/out" resolve,other.test,A,127.0.0.1 '^NXDOMAIN -' \
	"a name the policy does not allow gets NXDOMAIN there too"
net_expect "$TMP/out" resolve,bücher.test,A '^FORMERR - ' \
	"a query the proxy cannot parse (a raw UTF-8 label) gets FORMERR, not silence"
net_expect "$TMP/out" tcpdns,bücher.test,A,GW '^FORMERR - ' "over TCP too"
net_expect "$TMP/out" qcase,AlLoWeD.TeSt,A '^NOERROR AlLoWeD\.TeSt$' \
	"an answer's question keeps the case of the query's name"
net_expect "$TMP/out" qcase,aLLowed.tEST,A,tcp '^NOERROR aLLowed\.tEST$' "over TCP too"
net_expect "$TMP/out" qcase,OtHeR.test,A '^NXDOMAIN OtHeR\.test$' \
	"and so does a refusal's"
# DNS to an IPv6 server is not redirected to the proxy (it listens on 127.0.0.1): refused at
# once, in the task's own ruleset (EPERM comes from nowhere else), and recorded.
net_expect "$TMP/out" tudp,2600:1::53,53 '^fail Operation_not_permitted [0-9]{1,3}$' \
	"UDP to an IPv6 name server the task picks itself is refused at once (EPERM)"
net_expect "$TMP/out" ttcp,2600:1::53,53 '^fail Connection_refused [0-9]{1,3}$' \
	"TCP to it gets a reset at once"
python3 - "$TMP/record.json" <<'PY'
import json, sys
d = {(x['destination'], x['port'], x['protocol']) for x in json.load(open(sys.argv[1]))['network']['denied']}
assert ('2600:1::53', 53, 'udp') in d and ('2600:1::53', 53, 'tcp') in d, d
PY
al_ok $? "the record lists both attempts"
grep -q 'final.test 1 [0-9]* tcp' "$TMP/dns-queries.log"
al_ok $? "the half-closed connection's query went upstream over TCP"

# No dns.upstream in the policy or the configuration: the host's first IPv4 nameserver in its
# /etc/resolv.conf, here one of a private mount namespace's (the machine's is not touched).
cat >"$TMP/noup.json" <<'JSON'
{ "version": 1, "name": "net-noup", "limits": { "wall_time": "30s" },
  "network": { "egress": [ { "host": "allowed.test", "ports": [443] } ] } }
JSON
printf 'nameserver 2001:db8::53\nnameserver 11.1.0.53\n' >"$TMP/resolv4.conf"
printf '# only IPv6\nnameserver 2600:1::53\n' >"$TMP/resolv6.conf"
with_resolv() { # with_resolv FILE COMMAND...: COMMAND in the host namespace, FILE as resolv.conf
	local f=$1
	shift
	unshare -m --propagation private sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
		"$f" nsenter --net="/run/netns/$NET_H" "$@"
}
with_resolv "$TMP/resolv4.conf" "$AIRLOCK" run --policy "$TMP/noup.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record-noup.json" -- /bin/sh -c \
	'getent ahostsv4 allowed.test | head -n1' >"$TMP/out-noup" 2>"$TMP/err-noup"
al_ok "$([ $? -eq 0 ] && grep -q '^11\.1\.0\.10 ' "$TMP/out-noup" &&
	grep -q '"dns_upstream": "11.1.0.53"' "$TMP/record-noup.json"; echo $?)" \
	"without an upstream in policy or configuration, the host's first IPv4 nameserver is asked"
sed 's/^/# /' "$TMP/err-noup"
with_resolv "$TMP/resolv6.conf" "$AIRLOCK" policy check "$TMP/noup.json" --host >"$TMP/pc-noup" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "a run would be refused: /network/dns/upstream: no DNS upstream in the policy or the configuration and no IPv4 one in /etc/resolv.conf" "$TMP/pc-noup"
al_ok $? "with no IPv4 nameserver in the host's resolv.conf, policy check --host says a run would be refused (exit $rc)"
sed 's/^/# /' "$TMP/pc-noup"
with_resolv "$TMP/resolv6.conf" "$AIRLOCK" run --policy "$TMP/noup.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" -- /bin/true >/dev/null 2>"$TMP/err-noup6"
rc=$?
[ $rc -eq 125 ] && [ "$(wc -l <"$TMP/err-noup6")" -eq 1 ] && grep -q 'no IPv4 one in /etc/resolv.conf' "$TMP/err-noup6"
al_ok $? "and the run is refused, in one line (exit $rc)"

schema=$(python3 "$SRC/tests/lib/record-schema.py" validate "$SRC/docs/run-record.schema.json" "$TMP" 2>&1)
al_ok $? "records validate against docs/run-record.schema.json"
echo "$schema" | tail -n 20 | sed 's/^/# /'
echo "1..$AL_N"
exit $((AL_FAILED > 0))
