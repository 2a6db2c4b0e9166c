#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The hardening of minted credentials (docs/credentials.md, "What airlock keeps, and
# where"), against the issuers of issuer-servers.py over real TLS in the throw-away
# namespaces of the network tests:
# - while a run holds minted tokens, none is in memory of airlock's that a core dump would
#   hold, and airlock (non-dumpable once it minted) dumps no core at all;
# - a caller's FIFO without a writer does not hold airlock forever: SIGTERM ends it;
# - an http_json lease id that is unsafe in the revoke URL refuses the mint;
# - a scope_pointer's value is bounded before it reaches the record;
# - an issuer's error message reaches airlock's error line escaped and cut short;
# - a revocation state file that cannot be read is moved aside, once, not kept forever.
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"
# shellcheck source=tests/integration/issuer-ca.sh
. "$NET_DIR/issuer-ca.sh"

N=0
FAILED=0
ok() { # ok STATUS DESCRIPTION: returns STATUS's truth, for a diagnostic after ||
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $N - $2"; return 0; fi
	echo "not ok $N - $2"
	FAILED=$((FAILED + 1))
	return 1
}
is() { # is GOT WANT DESCRIPTION
	[ "$1" = "$2" ] && { ok 0 "$3"; return; }
	ok 1 "$3"
	echo "#   got:  '$1'"
	echo "#   want: '$2'"
	return 1
}
show() { sed 's/^/# err: /' "$TMP/err" | head -20; }
# logged EXPR: how many lines of the servers' log make the python expression over e true
logged() {
	python3 -c 'import json, sys
print(sum(bool(eval(sys.argv[2])) for e in map(json.loads, open(sys.argv[1]))))' \
		"$TMP/issuers.jsonl" "$1"
}
# tokens KIND: the values the servers minted of that kind, one per line
tokens() {
	python3 -c 'import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e["event"] == "mint" and e["kind"] == sys.argv[2]: print(e["token"])' \
		"$TMP/issuers.jsonl" "$1"
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
for t in "${NET_TOOLS[@]}" openssl unshare nsenter mkfifo; do
	command -v "$t" >/dev/null || { echo "Bail out! not installed: $t (setup.sh installs it)"; exit 1; }
done
python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "Bail out! not installed: python3-cryptography (setup.sh installs it)"; exit 1; }
lacks=$(net_kernel_lacks | tr '\n' ' ')
[ -z "$lacks" ] || { echo "1..0 # SKIP the kernel lacks: $lacks"; exit 77; }

TMP=$(mktemp -d /tmp/airlock-harden-XXXXXX)
chmod 755 "$TMP"
ISO_PARENT=airlock-it-harden-$$
ISSUERS_PID=
SILENT_PID=
BG=
cleanup() {
	[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null
	[ -n "$SILENT_PID" ] && kill "$SILENT_PID" 2>/dev/null
	[ -n "${ISSUERS_FD:-}" ] && exec {ISSUERS_FD}>&-
	[ -n "$ISSUERS_PID" ] && kill "$ISSUERS_PID" 2>/dev/null
	net_world_down
	local d
	for d in /sys/fs/cgroup/*/"$ISO_PARENT" /sys/fs/cgroup/"$ISO_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
unset GIT_SSL_CAINFO CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
mkdir -p "$TMP/ws" "$TMP/state" "$TMP/run" /run/airlock
chmod 700 "$TMP/run"

net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
ip -n "$NET_I" addr add 11.1.0.60/32 dev lo
issuer_ca_make "$TMP" && issuer_cert_make "$TMP" server IP:11.1.0.60 &&
	issuer_app_key "$TMP" app || { echo "Bail out! cannot make the test CA and keys"; exit 1; }
cat >"$TMP/servers.json" <<JSON
{ "listen": ["11.1.0.60:443"], "cert": "$TMP/server.pem", "key": "$TMP/server.key",
  "log": "$TMP/issuers.jsonl", "faults": "$TMP/faults.json",
  "github": { "app_id": "4242", "public_key": "$TMP/app.pub.pem", "git_root": "$TMP",
              "installations": { "77": { "account": "org", "repositories": ["a"],
                  "permissions": { "contents": "write", "metadata": "read" } } } },
  "oauth2": { "clients": { "airlock": "s3cret" }, "scopes": ["read", "write"], "lifetime": 3600 },
  "vault": { "token": "vault-admin", "roles": ["deploy"], "max_ttl": 3600 } }
JSON
: >"$TMP/issuers.jsonl"
mkfifo "$TMP/issuers.in"
ip netns exec "$NET_I" python3 "$NET_DIR/issuer-servers.py" --config "$TMP/servers.json" \
	<"$TMP/issuers.in" >"$TMP/issuers.out" 2>&1 &
ISSUERS_PID=$!
exec {ISSUERS_FD}>"$TMP/issuers.in"
for _ in $(seq 50); do grep -q ready "$TMP/issuers.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/issuers.out" || { echo "Bail out! the issuer servers did not start"; cat "$TMP/issuers.out"; exit 1; }

printf 's3cret\n' >"$TMP/client.secret"
printf 'vault-admin' >"$TMP/vault.token"
chmod 600 "$TMP/client.secret" "$TMP/vault.token"
# The Vault-style issuer revokes with the lease id in the URL's path (Vault's path form).
cat >"$TMP/airlock.json" <<JSON
{ "version": 1, "cgroup_parent": "$ISO_PARENT", "credentials": { "issuers": {
  "idp": { "kind": "oauth2_client_credentials", "token_url": "https://11.1.0.60/oauth2/token",
           "revocation_url": "https://11.1.0.60/oauth2/revoke", "client_id": "airlock",
           "client_secret_file": "$TMP/client.secret", "ca_file": "$TMP/ca.pem" },
  "vault": { "kind": "http_json", "url": "https://11.1.0.60/v1/creds/deploy",
             "ca_file": "$TMP/ca.pem",
             "headers": { "X-Vault-Token": { "file": "$TMP/vault.token" } },
             "body": { "ttl": "{{ttl}}" },
             "value_pointer": "/data/token", "ttl_pointer": "/lease_duration",
             "lease_pointer": "/lease_id", "scope_pointer": "/data/policies",
             "revoke": { "url": "https://11.1.0.60/v1/sys/leases/revoke/{{lease_id}}",
                         "method": "PUT" } },
  "vaultv": { "kind": "http_json", "url": "https://11.1.0.60/v1/creds/deploy",
              "ca_file": "$TMP/ca.pem",
              "headers": { "X-Vault-Token": { "file": "$TMP/vault.token" } },
              "body": { "ttl": "{{ttl}}" }, "value_pointer": "/data/token",
              "revoke": { "url": "https://11.1.0.60/v1/sys/leases/revoke/{{value}}",
                          "method": "PUT" } },
  "github": { "kind": "github_app", "api_url": "https://11.1.0.60", "app_id": 4242,
              "installation_id": 77, "private_key_file": "$TMP/app.key",
              "ca_file": "$TMP/ca.pem" } } } }
JSON
chmod 644 "$TMP/airlock.json"
G_API='{ "name": "api", "source": "issuer:idp", "ttl": "15m", "scope": ["read"], "deliver": { "file": "/run/secrets/api" } }'
G_VAULT='{ "name": "vt", "source": "issuer:vault", "ttl": "10m", "scope": ["ci"], "deliver": { "env": "VAULT_TOKEN" } }'
G_GH='{ "name": "gh", "source": "issuer:github", "ttl": "10m", "scope": { "repositories": ["org/a"], "permissions": { "contents": "read" } }, "deliver": { "file": "/run/secrets/gh" } }'
policy() { # policy NAME GRANT...
	local name=$1 grants
	shift
	grants=$(IFS=,; echo "$*")
	cat >"$TMP/$name.json" <<JSON
{ "version": 1, "name": "$name", "limits": { "wall_time": "60s" }, "credentials": [ $grants ] }
JSON
}
policy all "$G_API" "$G_VAULT" "$G_GH"
policy vault "$G_VAULT"
policy gh "$G_GH"
policy plain
policy caller '{ "name": "pipe", "source": "caller", "deliver": { "file": "/run/secrets/pipe" } }'

# airlock ARGS...: `airlock run` in the "host" namespace with this test's runtime directory
# (a bind over /run/airlock in a private mount namespace: no other airlock reaps our runs).
AIRLOCK_RUN=(nsenter --net="/run/netns/$NET_H" unshare -m --propagation private -- /bin/sh -c
	'mount --bind "$0" /run/airlock && exec "$@"' "$TMP/run"
	"$AIRLOCK" run --config "$TMP/airlock.json" --workspace "$TMP/ws" --state-dir "$TMP/state")
airlock() {
	"${AIRLOCK_RUN[@]}" "$@"
}
run() { # run POLICY -- CMD...: RC, $TMP/out, $TMP/err
	local p=$1
	shift
	airlock --policy "$TMP/$p.json" --record "$TMP/record-$p.json" "$@" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	RC=$?
}
bg() { # bg ARGS...: airlock() in the background, BG its pid (nsenter, unshare and sh exec)
	(exec "${AIRLOCK_RUN[@]}" "$@") >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
	BG=$!
}
bg_wait_started() {
	for _ in $(seq 200); do grep -q started "$TMP/bg.out" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
bg_end() {
	[ -n "$BG" ] || return
	kill -TERM "$BG" 2>/dev/null
	wait "$BG" 2>/dev/null
	BG=
}
# The lines of stderr but the reaper's and the cgroup cleanup's.
err_lines() { grep -cv -e '^airlock: removed the cgroups' -e '^airlock: marked the record' "$TMP/err"; }

# ---- 1. minted values in airlock's memory and core dumps ----
HOLDS=$NET_DIR/mem-holds.py
bg --policy "$TMP/all.json" -- /bin/sh -c 'echo started; exec sleep 60'
if bg_wait_started; then
	mapfile -t minted < <(tokens oauth2; tokens vault; tokens github)
	is "${#minted[@]}" 3 "a run with three grants minted three tokens"
	is "$(python3 "$HOLDS" "$BG" dumped "${minted[@]}" 2>&1)" "" \
		"no minted token is in memory of airlock's that a core dump would hold"
	held=$(python3 "$HOLDS" "$BG" undumped "${minted[@]}" 2>&1)
	ok "$([ -n "$held" ]; echo $?)" "the scan finds them in airlock's undumped memory"
else
	ok 1 "the run with three grants started"
	sed 's/^/# /' "$TMP/bg.err"
fi
bg_end
is "$(logged 'e["event"] == "revoke"')" 3 "the three tokens were revoked at the end"

pattern=$(cat /proc/sys/kernel/core_pattern)
case "$pattern" in
'|'* | */*)
	echo "ok $((N + 1)) # SKIP core_pattern '$pattern' does not dump into the process's directory"
	echo "ok $((N + 2)) # SKIP core_pattern '$pattern'"
	N=$((N + 2))
	;;
*)
	# core POLICY: the files a SIGABRT of airlock running POLICY dumped into its directory
	core() {
		rm -rf "$TMP/core" && mkdir "$TMP/core" && chmod 755 "$TMP/core"
		(
			cd "$TMP/core" || exit 1
			ulimit -c unlimited
			export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0
			exec "${AIRLOCK_RUN[@]}" --policy "$TMP/$1.json" -- \
				/bin/sh -c 'echo started; exec sleep 60'
		) >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
		BG=$!
		bg_wait_started && kill -ABRT "$BG"
		wait "$BG" 2>/dev/null
		BG=
		ls "$TMP/core"
	}
	c=$(core plain)
	ok "$([ -n "$c" ]; echo $?)" "airlock without grants dumps a core on SIGABRT (the control)"
	is "$(core gh)" "" "airlock holding a minted token dumps no core (it is not dumpable)"
	rm -rf "$TMP/core"
	# Its dead run's token is revoked by the next start.
	run plain -- /bin/true
	;;
esac

# ---- 3. a FIFO without a writer: SIGTERM ends the wait ----
mkfifo "$TMP/pipe"
bg --policy "$TMP/caller.json" --credential pipe=@"$TMP/pipe" -- /bin/true
sleep 1
kill -TERM "$BG"
for _ in $(seq 50); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$BG" 2>/dev/null; then
	ok 1 "SIGTERM ends airlock waiting for a FIFO's writer within 5 s"
	kill -KILL "$BG"
	wait "$BG" 2>/dev/null
	RC=none
else
	ok 0 "SIGTERM ends airlock waiting for a FIFO's writer within 5 s"
	wait "$BG"
	RC=$?
fi
BG=
is "$RC $(grep -v -e 'removed the cgroups' -e 'marked the record' "$TMP/bg.err")" \
	"125 airlock: refusing run: credential 'pipe': interrupted by SIGTERM while waiting for '$TMP/pipe' (a FIFO without a writer)" \
	"it exits 125 (refused) with one line naming the slot and the FIFO"
# A writer that comes: the value is read as before.
bg --policy "$TMP/caller.json" --credential pipe=@"$TMP/pipe" -- /bin/sh -c 'cat /run/secrets/pipe; echo; echo started'
sleep 0.5
timeout 10 sh -c 'printf fifo-value >"$0"' "$TMP/pipe"
bg_wait_started
wait "$BG"
RC=$?
BG=
is "$RC $(head -n1 "$TMP/bg.out")" "0 [REDACTED:pipe]" "a FIFO whose writer comes is read as before"

# ---- 4. an http_json lease id unsafe in the revoke URL refuses the mint ----
for lease in 'creds/deploy/../../sys/raw' 'creds/deploy/x?y=1' 'creds/deploy/x#y' \
	'creds/deploy/%2e%2e' 'creds/deploy/a b' 'creds/deploy/é'; do
	printf '{"/v1/creds/": "lease=%s"}' "$lease" >"$TMP/faults.json"
	n0=$(logged 'e["event"] in ("revoke", "not_found")')
	run vault -- /bin/true
	if [ "$RC" -eq 125 ] && [ "$(err_lines)" -eq 1 ] &&
		grep -q "refusing run: credential 'vt' from issuer 'vault': lease id at /lease_id: .*not revocable" "$TMP/err"; then
		ok 0 "lease id '$lease': the run is refused with one line"
	else
		ok 1 "lease id '$lease': the run is refused with one line (exit $RC)"
		show
	fi
	is "$(logged 'e["event"] in ("revoke", "not_found")')" "$n0" \
		"lease id '$lease': no revoke request went to another path"
done
rm -f "$TMP/faults.json"
run vault -- /bin/true
is "$RC $(logged 'e["event"] == "revoke" and e["kind"] == "vault" and e["result"] == "revoked"')" \
	"0 2" "a lease id with slashes only is revoked by its path (with the first run's)"

# ---- 5. scope_pointer: bounded before it reaches the record ----
echo '{"/v1/creds/": "bigscope"}' >"$TMP/faults.json"
run vault -- /bin/true
rm -f "$TMP/faults.json"
is "$RC" 0 "a run whose issuer reports a 30 KB scope succeeds"
scope=$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["credentials"][0]
print(len(json.dumps(c["scope"])) <= 1100, c.get("scope_clipped"))' "$TMP/record-vault.json" 2>&1)
is "$scope" "True True" "the record holds it clipped to 1 KiB, and says so (scope_clipped)"
echo '{"/v1/creds/": "bigscope-esc"}' >"$TMP/faults.json"
run vault -- /bin/true
rm -f "$TMP/faults.json"
scope=$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["credentials"][0]
print(len(json.dumps(c["scope"])) <= 1024, len(c["scope"]) > 0, c.get("scope_clipped"))' \
	"$TMP/record-vault.json" 2>&1)
is "$RC $scope" "0 True True True" \
	"a string scope of control characters is clipped to 1 KiB as JSON (6 bytes each), not as bytes"

# ---- 6. an issuer's message: escaped and cut short ----
echo '{"/app/": "message-esc"}' >"$TMP/faults.json"
run gh -- /bin/true
esc=$(printf '\033')
if [ "$RC" -eq 125 ] && [ "$(err_lines)" -eq 1 ] && ! grep -q "$esc" "$TMP/err" &&
	grep -qF '(denied \x1b[2J\x1b]0;owned\x07\x1b[31mred\x0d\x0aX-Fake: 1)' "$TMP/err"; then
	ok 0 "GitHub's message with escape sequences reaches the error line escaped, on one line"
else
	ok 1 "GitHub's message with escape sequences reaches the error line escaped, on one line"
	sed -n l "$TMP/err" | head -5 | sed 's/^/# /'
fi
echo '{"/app/": "message-big"}' >"$TMP/faults.json"
run gh -- /bin/true
len=$(head -n1 "$TMP/err" | wc -c)
if [ "$RC" -eq 125 ] && [ "$len" -lt 600 ] && grep -q '(big mmmm.*\.\.\.)$' "$TMP/err"; then
	ok 0 "a 10 KB message is cut short ($len bytes in all)"
else
	ok 1 "a 10 KB message is cut short ($len bytes in all, exit $RC)"
	show
fi
rm -f "$TMP/faults.json"

# ---- 7. an unreadable revocation state file is moved aside, not kept forever ----
mkdir -p "$TMP/run/credentials/run-dead"
printf '{ not json' >"$TMP/run/credentials/run-dead/api.json"
chmod 600 "$TMP/run/credentials/run-dead/api.json"
run plain --diagnostics-file "$TMP/diag" -- /bin/true
is "$RC" 0 "a start with an unreadable state file of a dead run succeeds"
grep -q "revocation state '.*api.json' of dead run run-dead cannot be read (.*): moved to '.*api.json.unreadable'" "$TMP/diag"
ok $? "it says so once, naming the file and where it went" || sed 's/^/# diag: /' "$TMP/diag"
is "$(cd "$TMP/run/credentials" && find . -type f | sort)" "./run-dead/api.json.unreadable" \
	"the file is moved aside (root's to inspect), not read again"
run plain --diagnostics-file "$TMP/diag2" -- /bin/true
is "$(grep -c 'api.json' "$TMP/diag2")" 0 "the next start says nothing more of it" ||
	sed 's/^/# diag: /' "$TMP/diag2"

# ---- 7b. a dead run's token outlives its grant's ttl: the next start still revokes it ----
# GitHub's tokens live an hour whatever the grant's ttl (2s here): a start after a SIGKILL
# and past the ttl must revoke the token all the same, not call it expired.
policy ghshort '{ "name": "gh", "source": "issuer:github", "ttl": "2s", "scope": { "repositories": ["org/a"], "permissions": { "contents": "read" } }, "deliver": { "file": "/run/secrets/gh" } }'
bg --policy "$TMP/ghshort.json" -- /bin/sh -c 'echo started; exec sleep 60'
if bg_wait_started; then
	t=$(tokens github | tail -n1)
	kill -KILL "$BG"
	wait "$BG" 2>/dev/null
	BG=
	sleep 4 # past the grant's ttl, within GitHub's hour
	run plain --diagnostics-file "$TMP/diag3" -- /bin/true
	is "$RC $(logged "e['event'] == 'revoke' and e['token'] == '$t' and e['result'] == 'revoked'")" \
		"0 1" "a start past a dead run's grant ttl (2s) revokes its GitHub token (valid an hour)" ||
		sed 's/^/# diag: /' "$TMP/diag3"
	grep -q "revoked credential 'gh' of dead run" "$TMP/diag3"
	ok $? "the start says so"
	is "$(find "$TMP/run/credentials" -name gh.json)" "" "the dead run's state is gone"
else
	ok 1 "the run with a 2s GitHub grant started"
	sed 's/^/# /' "$TMP/bg.err"
fi

# ---- 7c. a revoke URL that puts the value in: never in an error line or the record ----
# A revocation that fails in libcurl (the server drops the connection) names the URL: the
# template, not the URL with the token in it.
policy vaultv '{ "name": "vt", "source": "issuer:vaultv", "ttl": "10m", "deliver": { "env": "VAULT_TOKEN" } }'
echo '{"/v1/sys/leases/revoke": "drop"}' >"$TMP/faults.json"
run vaultv -- /bin/true
rm -f "$TMP/faults.json"
t=$(tokens vault | tail -n1)
is "$RC $(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["credentials"][0]
print(c["revocation"], c.get("revocation_error", "")[:75])' "$TMP/record-vaultv.json" 2>&1)" \
	"0 failed PUT https://11.1.0.60/v1/sys/leases/revoke/{{value}}: curl: Server returned" \
	"a revocation cut off in libcurl is recorded failed, naming the revoke URL's template"
is "$(grep -rlaF -- "${t:-no token}" "$TMP/err" "$TMP/record-vaultv.json" "$TMP/state")" "" \
	"the token the revoke URL carried is in no error line, record or log" ||
	grep -F "Failed to revoke" "$TMP/err" | sed 's/^/# /'
# Its state (which holds the token) goes: the test server has no route to revoke it by.
rm -rf "$TMP/run/credentials/$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["run_id"])' "$TMP/record-vaultv.json")"

# ---- 8. a name lookup that outlives a dead run's revocation: no thread beside the clone ----
# The dead run's issuer has a name nobody answers for (a resolver at 11.1.0.99 that reads
# and never replies, 3 s per try): libcurl gives up at the issuer's 1 s timeout, its resolver thread lives on. The
# next run must not clone its sandbox while that thread is alive: airlock has as many
# threads while its task runs as a run without any reaping.
ip -n "$NET_I" addr add 11.1.0.99/32 dev lo
ip netns exec "$NET_I" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("11.1.0.99", 53))
print("ready", flush=True)
time.sleep(600)' >"$TMP/silent.out" 2>&1 &
SILENT_PID=$!
for _ in $(seq 50); do grep -q ready "$TMP/silent.out" 2>/dev/null && break; sleep 0.1; done
printf 'nameserver 11.1.0.99\noptions timeout:3 attempts:1\n' >"$TMP/resolv.conf"
cat >"$TMP/airlock-dns.json" <<JSON
{ "version": 1, "cgroup_parent": "$ISO_PARENT", "credentials": { "issuers": {
  "lost": { "kind": "oauth2_client_credentials", "token_url": "https://idp.test/oauth2/token",
            "revocation_url": "https://idp.test/oauth2/revoke", "client_id": "airlock",
            "client_secret_file": "$TMP/client.secret", "ca_file": "$TMP/ca.pem",
            "timeout": "1s", "connect_timeout": "1s" } } } }
JSON
chmod 644 "$TMP/airlock-dns.json"
threads_at_start() { # threads_at_start: airlock's threads once its task runs
	(exec nsenter --net="/run/netns/$NET_H" unshare -m --propagation private -- /bin/sh -c \
		'mount --bind "$0" /run/airlock && mount --bind "$1" /etc/resolv.conf && shift &&
		exec "$@"' "$TMP/run" "$TMP/resolv.conf" "$AIRLOCK" run --config "$TMP/airlock-dns.json" \
		--workspace "$TMP/ws" --state-dir "$TMP/state" --policy "$TMP/plain.json" -- \
		/bin/sh -c 'echo started; exec sleep 30') >"$TMP/bg.out" 2>"$TMP/bg.err" </dev/null &
	BG=$!
	bg_wait_started && find "/proc/$BG/task" -mindepth 1 -maxdepth 1 | wc -l
	bg_end
}
control=$(threads_at_start)
[ -n "$control" ] || sed 's/^/# control: /' "$TMP/bg.err"
mkdir -p "$TMP/run/credentials/run-dns"
printf '{"grant":"api","issuer":"lost","expires":%s,"revocation":{"token":"tok-lost"}}' \
	"$(($(date +%s) + 600))" >"$TMP/run/credentials/run-dns/api.json"
chmod 600 "$TMP/run/credentials/run-dns/api.json"
is "$(threads_at_start)" "${control:-none}" \
	"after a revocation whose name lookup timed out, the task starts with no thread of libcurl's left ($control threads)"
[ -f "$TMP/run/credentials/run-dns/api.json" ]
ok $? "the failed revocation's state stays for a later start"
rm -rf "$TMP/run/credentials/run-dns"
kill "$SILENT_PID"
wait "$SILENT_PID" 2>/dev/null
SILENT_PID=

# No token minted here is in any file left behind; every token is revoked or refused.
leak=$( (tokens oauth2; tokens vault; tokens github) | while read -r t; do
	grep -rlaF -- "$t" "$TMP/state" "$TMP/run" "$TMP/ws" "$TMP"/record-*.json
done)
is "$leak" "" "no minted token is in any record or file left behind"
out=$(timeout 300 python3 "$SRC/tests/lib/record-schema.py" validate \
	"$SRC/docs/run-record.schema.json" "$TMP" 2>&1)
rc=$?
ok $rc "records and event logs validate against docs/run-record.schema.json"
[ $rc -eq 0 ] || echo "$out" | tail -n 20 | sed 's/^/# /'

echo "1..$N"
[ "$FAILED" -eq 0 ]
