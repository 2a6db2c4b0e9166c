#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Credentials minted per run (docs/credentials.md): airlock runs in a throw-away "host"
# namespace and mints from token servers in a throw-away "internet" (issuer-oauth-server.py,
# real TLS with a CA made here). The task uses its token against a protected endpoint; the
# server sees each token revoked after a normal exit, a wall-time kill, SIGTERM to airlock,
# and SIGKILL of airlock followed by the next start; every mint failure (wrong CA, 500,
# timeout, malformed, oversized, unknown issuer, a secret file others can read) refuses the
# run with one line and leaves nothing behind; no value is left in any record or file.
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"

N=0
FAILED=0
ok() { N=$((N + 1)); if [ "$1" -eq 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=$((FAILED + 1)); fi; }
is() { if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; printf '# got:  %s\n# want: %s\n' "$1" "$2"; return 1; fi; }
show() { sed 's/^/# err: /' "$TMP/err" | head -20; sed 's/^/# out: /' "$TMP/out" | head -10; }

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
for t in "${NET_TOOLS[@]}" openssl unshare /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "Bail out! not installed: $t (setup.sh installs it)"; exit 1; }
done
lacks=$(net_kernel_lacks | tr '\n' ' ')
[ -z "$lacks" ] || { echo "1..0 # SKIP the kernel lacks: $lacks"; exit 77; }

TMP=$(mktemp -d /tmp/airlock-issuers-XXXXXX)
chmod 755 "$TMP"
ISO_PARENT=airlock-it-issuers-$$
ISSUER=11.1.0.40
SERVER_PID=
cleanup() {
	[ -n "${BG:-}" ] && kill -9 "$BG" 2>/dev/null
	[ -n "${SERVER_FD:-}" ] && exec {SERVER_FD}>&-
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	net_world_down
	local d
	for d in /sys/fs/cgroup/*/"$ISO_PARENT" /sys/fs/cgroup/"$ISO_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/ws" "$TMP/state" "$TMP/run" /run/airlock
chmod 700 "$TMP/run"

# ---- the issuer: a CA, a certificate for its address, the server in the "internet" ----
pki() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=airlock test CA $1" \
		-keyout "$TMP/$1.key" -out "$TMP/$1.pem" 2>/dev/null
}
pki ca && pki otherca || { echo "Bail out! openssl cannot make a CA"; exit 1; }
openssl req -newkey rsa:2048 -nodes -subj "/CN=$ISSUER" -keyout "$TMP/srv.key" \
	-out "$TMP/srv.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:%s\n' "$ISSUER" >"$TMP/srv.ext" &&
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/srv.ext" -out "$TMP/srv.pem" 2>/dev/null ||
	{ echo "Bail out! openssl cannot make the server's certificate"; exit 1; }

net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
ip -n "$NET_I" addr add "$ISSUER/32" dev lo
LOG=$TMP/issuer.log
: >"$LOG"
mkfifo "$TMP/server.in"
ip netns exec "$NET_I" python3 "$NET_DIR/issuer-oauth-server.py" "$ISSUER" 443 8080 \
	"$TMP/srv.pem" "$TMP/srv.key" "$LOG" <"$TMP/server.in" >"$TMP/server.out" 2>&1 &
SERVER_PID=$!
exec {SERVER_FD}>"$TMP/server.in"
for _ in $(seq 50); do grep -q ready "$TMP/server.out" && break; sleep 0.1; done
grep -q ready "$TMP/server.out" || { echo "Bail out! the issuer did not start"; cat "$TMP/server.out"; exit 1; }

# The client secret and the Vault token: root-only files the node configuration names.
printf 's3cret\n' >"$TMP/client.secret"
printf 'root-vault' >"$TMP/vault.token"
chmod 600 "$TMP/client.secret" "$TMP/vault.token"

# conf NAME TOKEN_PATH [CA] [TIMEOUT] [REVOKE_PATH]: a node configuration with the issuer
# "idp" (OAuth2 at TOKEN_PATH, RFC 7009 at REVOKE_PATH) and "vault" (http_json), in this
# test's own cgroup parent.
conf() {
	cat >"$TMP/$1.conf" <<JSON
{ "version": 1, "cgroup_parent": "$ISO_PARENT",
  "credentials": { "issuers": {
    "idp": { "kind": "oauth2_client_credentials", "token_url": "https://$ISSUER$2",
             "revocation_url": "https://$ISSUER${5:-/revoke}", "client_id": "airlock",
             "client_secret_file": "$TMP/client.secret", "ca_file": "${3:-$TMP/ca.pem}",
             "timeout": "${4:-10s}" },
    "vault": { "kind": "http_json", "url": "https://$ISSUER/v1/token",
               "ca_file": "$TMP/ca.pem",
               "headers": { "X-Vault-Token": { "file": "$TMP/vault.token" } },
               "body": { "policies": "{{scope}}", "ttl": "{{ttl}}s",
                         "meta": { "run": "{{run_id}}" } },
               "value_pointer": "/auth/client_token", "ttl_pointer": "/auth/lease_duration",
               "lease_pointer": "/auth/accessor", "scope_pointer": "/auth/policies",
               "revoke": { "url": "https://$ISSUER/v1/revoke",
                           "body": { "accessor": "{{lease_id}}" } } } } } }
JSON
	chmod 644 "$TMP/$1.conf"
}
conf good /token

# policy NAME WALL [GRANT JSON...]: a policy with egress to the protected endpoint.
policy() {
	local name=$1 wall=$2 grants
	shift 2
	grants=$(IFS=,; echo "$*")
	cat >"$TMP/$name.json" <<JSON
{ "version": 1, "name": "$name", "limits": { "wall_time": "$wall" },
  "network": { "egress": [ { "cidr": "$ISSUER/32", "ports": [8080] } ],
               "dns": { "upstream": ["11.1.0.53"] } },
  "credentials": [ $grants ] }
JSON
}
G_API='{ "name": "api", "source": "issuer:idp", "ttl": "15m", "scope": ["read", "write"], "deliver": { "file": "/run/secrets/api" } }'
G_VAULT='{ "name": "vt", "source": "issuer:vault", "ttl": "10m", "scope": ["ci"], "deliver": { "env": "VAULT_TOKEN" } }'
policy use 60s "$G_API" "$G_VAULT"

# airlock [OPTIONS] -- CMD: `airlock run` in the "host" namespace, with a runtime directory of
# this test's own (a bind over /run/airlock in a private mount namespace): no other airlock
# on the machine reaps this test's dead runs, and the reaper here sees only ours.
airlock() {
	nsenter --net="/run/netns/$NET_H" unshare -m --propagation private -- /bin/sh -c \
		'mount --bind "$0" /run/airlock && exec "$@"' "$TMP/run" \
		"$AIRLOCK" run --workspace "$TMP/ws" --state-dir "$TMP/state" "$@"
}
# airlock_bg [OPTIONS] -- CMD: airlock() in the background, BG its pid (the execs keep it).
airlock_bg() {
	(
		exec nsenter --net="/run/netns/$NET_H" unshare -m --propagation private -- /bin/sh -c \
			'mount --bind "$0" /run/airlock && exec "$@"' "$TMP/run" \
			"$AIRLOCK" run --workspace "$TMP/ws" --state-dir "$TMP/state" "$@"
	) >"$TMP/out" 2>"$TMP/err" </dev/null &
	BG=$!
}
# The task of a run whose airlock the test signals: says it runs, then sleeps. The task
# starts only once the running record is written, and its line passes airlock's loop, so
# wait_started returns once the run is up (at default log level airlock itself says nothing).
SLEEPER=(/bin/sh -c 'echo started; exec sleep 30')
wait_started() {
	for _ in $(seq 100); do grep -q '^started' "$TMP/out" && return 0; sleep 0.1; done
	return 1
}
run() { # run CONF POLICY -- CMD...: sets RC; stdout, stderr in $TMP/out, $TMP/err
	local c=$1 p=$2
	shift 2
	airlock --config "$TMP/$c.conf" --policy "$TMP/$p.json" --record "$TMP/record.json" "$@" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
	RC=$?
}
minted() { grep -c '^mint ' "$LOG"; }
# The tokens minted and not revoked, one per line.
unrevoked() {
	awk '$1 == "mint" { live[$2] = 1 } $1 == "revoke" { delete live[$2] }
		END { for (t in live) print t }' "$LOG"
}
last_token() { awk '$1 == "mint" { t = $2 } END { print t }' "$LOG"; }
revoked() { grep -qx "revoke $1" "$LOG"; }
# Nothing of the runs' credentials left in the runtime directory.
state_left() { find "$TMP/run/credentials" -mindepth 1 2>/dev/null | head -3; }
rec() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$TMP/record.json" "$1"; }
# evs EXPR: EXPR of r (the record) and ev (its run's event log, a list of the lines), and
# of cev (the lines "credential_expired" and "credential_revoked", as (type, name, on_expiry,
# revoking, revocation, revocation_error)).
evs() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
ev = [json.loads(l) for l in open(sys.argv[2] + "/events/" + r["run_id"] + ".jsonl")]
cev = [(e["type"], e["name"], e.get("on_expiry"), e.get("revoking"), e.get("revocation"),
        e.get("revocation_error")) for e in ev if e["type"] in ("credential_expired", "credential_revoked")]
print(eval(sys.argv[3]))' "$TMP/record.json" "$TMP/state" "$1" 2>&1
}

# ---- the task uses its token; both are revoked at the end ----
CALL='import os, urllib.request
for t in (open("/run/secrets/api").read(), os.environ["VAULT_TOKEN"]):
    r = urllib.request.Request("http://'$ISSUER':8080/protected", headers={"Authorization": "Bearer " + t})
    print(urllib.request.urlopen(r, timeout=5).read().decode().strip())'
run good use -- /usr/bin/python3 -c "$CALL"
is "$RC" 0 "a run with two grants succeeds"
[ "$RC" -eq 0 ] || show
is "$(cat "$TMP/out")" "ok read write
ok ci" "the task's tokens work at the protected endpoint, with the scopes asked for"
is "$(minted)" 2 "the issuers saw one mint per grant"
is "$(unrevoked)" "" "both tokens were revoked when the run ended"
TOKENS=$(awk '$1 == "mint" { print $2 }' "$LOG")
is "$(rec '[(c["name"], c["kind"], c["revocation"], "revoked_at" in c) for c in r["credentials"]]')" \
	"[('api', 'oauth2_client_credentials', 'revoked', True), ('vt', 'http_json', 'revoked', True)]" \
	"the record names each grant's kind, revocation and its time"
is "$(rec '[c["scope"] for c in r["credentials"]]')" "['read write', ['ci']]" \
	"the record holds the scopes as the issuers granted them"
api=$(awk '$1 == "mint" && $3 == "read" { print $2 }' "$LOG")
is "$(rec 'r["credentials"][0]["fingerprint"]')" "sha256:$(printf %s "$api" | sha256sum | cut -d' ' -f1)" \
	"the record's fingerprint is the SHA-256 of the minted token"
leak=$(for t in $TOKENS; do grep -rlaF -- "$t" "$TMP/state" "$TMP/run" "$TMP/record.json" "$TMP/err"; done)
is "$leak" "" "no token is in a record, the state or runtime directory, or airlock's stderr"
is "$(state_left)" "" "the run's revocation state is gone"

# ---- a wall-time kill, SIGTERM to airlock: revoked all the same ----
policy slow 2s "$G_API"
run good slow -- /bin/sleep 30
is "$RC" 124 "a run killed at its wall time exits 124"
t=$(last_token)
revoked "$t" && ok 0 "the token was revoked after the wall-time kill" || ok 1 "the token was revoked after the wall-time kill"

policy long 60s "$G_API"
airlock_bg --config "$TMP/good.conf" --policy "$TMP/long.json" -- "${SLEEPER[@]}"
wait_started
sleep 0.3
grep -q libcurl "/proc/$BG/maps"
ok $? "a run with grants has loaded libcurl (the issuer module)"
kill -TERM "$BG"
wait "$BG"
RC=$?
BG=
t=$(last_token)
revoked "$t" && ok 0 "the token was revoked after SIGTERM to airlock (exit $RC)" ||
	ok 1 "the token was revoked after SIGTERM to airlock (exit $RC)"

# ---- SIGKILL of airlock: the next start revokes what the dead run held ----
airlock_bg --config "$TMP/good.conf" --policy "$TMP/long.json" -- "${SLEEPER[@]}"
wait_started
kill -KILL "$BG"
wait "$BG" 2>/dev/null
BG=
t=$(last_token)
revoked "$t" && ok 1 "a killed airlock revokes nothing itself" || ok 0 "a killed airlock revokes nothing itself"
left=$(find "$TMP/run/credentials" -name '*.json' | wc -l)
is "$left" 1 "its revocation state stays in the runtime directory"
is "$(stat -c %a "$(find "$TMP/run/credentials" -name '*.json')")" 600 "the state file is root-only"
dead=$(ls "$TMP/run/credentials")
cat >"$TMP/plain.json" <<'JSON'
{ "version": 1, "name": "plain" }
JSON
run good plain --diagnostics-file "$TMP/diag" -- /bin/true
is "$RC" 0 "the next run (without grants) succeeds"
revoked "$t" && ok 0 "the next start revoked the dead run's token" || { ok 1 "the next start revoked the dead run's token"; show; }
grep -q "revoked credential 'api' of dead run" "$TMP/diag"
ok $? "the next start says so (in its diagnostics)"
is "$(state_left)" "" "the dead run's revocation state is gone"
is "$(unrevoked)" "" "every token minted so far is revoked"
# The dead run's record, marked aborted by that start, says what became of the grant: the
# start revoked it before it signed the record, not after.
# dead_grant ID: exit.cause, then revocation, whether revoked_at is set, revocation_error.
dead_grant() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
c = r["credentials"][0]
print(r["exit"]["cause"], c["revocation"], "revoked_at" in c, c.get("revocation_error", "-"))' \
		"$TMP/state/records/$1.json" 2>&1
}
is "$(dead_grant "$dead")" "aborted revoked True -" \
	"the dead run's aborted record says its grant was revoked, and when"
is "$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["credentials"][0]["revoked_at"] <= r["ended_at"])' "$TMP/state/records/$dead.json")" True \
	"the grant was revoked before the record was marked aborted"
"$AIRLOCK" records --state-dir "$TMP/state" verify >"$TMP/verify.out" 2>&1
ok $? "the aborted record, with its grant's revocation, verifies in the chain" ||
	sed 's/^/# /' "$TMP/verify.out"

# dead_run CONF: a run with a grant whose airlock is killed (SIGKILL); sets t (its token)
# and dead (its run id).
dead_run() {
	airlock_bg --config "$TMP/$1.conf" --policy "$TMP/long.json" -- "${SLEEPER[@]}"
	wait_started
	kill -KILL "$BG"
	wait "$BG" 2>/dev/null
	BG=
	t=$(last_token)
	dead=$(ls "$TMP/run/credentials")
}
# The issuer's revocation endpoint fails (HTTP 500) when the next start revokes: the
# aborted record says so, with the error, never "pending"; the state stays, and a later
# start revokes it.
conf revfail /token "" "" /revoke-500
dead_run revfail
run revfail plain -- /bin/true
is "$RC $(dead_grant "$dead")" \
	"0 aborted failed True HTTP 500 from POST https://$ISSUER/revoke-500" \
	"a revocation the issuer refuses: the aborted record says failed, with the HTTP status"
grep -qx "revoke-failed $t" "$LOG"
ok $? "the issuer saw that revocation, and refused it"
is "$(find "$TMP/run/credentials" -name '*.json' | wc -l)" 1 "the failed grant's state stays for a later start"
run good plain -- /bin/true
revoked "$t" && ok 0 "a later start revokes it" || { ok 1 "a later start revokes it"; show; }
is "$(state_left)" "" "then its state is gone"
is "$(dead_grant "$dead")" "aborted failed True HTTP 500 from POST https://$ISSUER/revoke-500" \
	"the record, signed once, still says what the start that marked it found"
# An issuer the next start's configuration lacks: failed, naming why (no request made).
cat >"$TMP/noidp.conf" <<JSON
{ "version": 1, "cgroup_parent": "$ISO_PARENT" }
JSON
dead_run good
run noidp plain -- /bin/true
is "$RC $(dead_grant "$dead")" \
	"0 aborted failed False issuer 'idp' is not in the node configuration" \
	"an issuer the next start cannot use: the aborted record says failed, and why"
run good plain -- /bin/true
revoked "$t" && ok 0 "a start that has the issuer revokes it" || { ok 1 "a start that has the issuer revokes it"; show; }
is "$(state_left)" "" "then the dead run's state is gone"
is "$(unrevoked)" "" "every token minted so far is revoked"

# A run without grants never maps libcurl or the issuer module (the start stays as fast as
# before). libcrypto is another matter: every run signs its record with it, loaded on a
# thread once the task runs (run-record.md, "Chain and signature").
airlock_bg --config "$TMP/good.conf" --policy "$TMP/plain.json" -- "${SLEEPER[@]}"
wait_started
maps=$(grep -cE 'libcurl|airlock-issuers' "/proc/$BG/maps")
is "$maps" 0 "a run without grants maps neither libcurl nor the issuer module"
kill -KILL "$BG"
wait "$BG" 2>/dev/null
BG=

# ---- expiry during the run ----
# LIFE, for rec: seconds from the first grant's issued_at to its expires_at (ISSUER: to
# its issuer_expires_at).
secs='(lambda s: __import__("calendar").timegm(__import__("time").strptime(s[:19], "%Y-%m-%dT%H:%M:%S")))'
LIFE="$secs(r['credentials'][0]['expires_at']) - $secs(r['credentials'][0]['issued_at'])"
ISSUER_LIFE="$secs(r['credentials'][0]['issuer_expires_at']) - $secs(r['credentials'][0]['issued_at'])"
conf short /token-short
policy expiring 60s '{ "name": "api", "source": "issuer:idp", "ttl": "15m", "on_expiry": "kill", "deliver": { "file": "/run/secrets/api" } }'
run short expiring -- /bin/sleep 30
is "$RC" 124 "a grant with on_expiry kill ends the task when it expires"
is "$(rec 'r["exit"]["cause"], r["credentials"][0]["expired"]')" "('credential_expired', True)" \
	"the record says why, and that the credential expired"

# ---- expiry while the job is stopped (^Z): the run ends then, not once continued ----
conf short5 /token-5s
policy expiring5 60s '{ "name": "api", "source": "issuer:idp", "ttl": "15m", "on_expiry": "kill", "deliver": { "file": "/run/secrets/api" } }'
set -m # a job of its own, whose stop signal stops it (not an orphaned process group)
airlock_bg --config "$TMP/short5.conf" --policy "$TMP/expiring5.json" --record "$TMP/record.json" \
	-- /bin/sh -c 'echo ready; exec sleep 30'
for _ in $(seq 100); do grep -q '^ready' "$TMP/out" && break; sleep 0.1; done
kill -TSTP "$BG"
for _ in $(seq 50); do [ "$(sed 's/.*) //' "/proc/$BG/stat" | cut -c1)" = T ] && break; sleep 0.1; done
is "$(sed 's/.*) //' "/proc/$BG/stat" 2>&1 | cut -c1)" T "the job is stopped before its credential expires"
for _ in $(seq 200); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BG" 2>/dev/null && { kill -TERM "$BG"; kill -CONT "$BG"; } # the case failed: end it
wait "$BG"
is "$?" 124 "a grant with on_expiry kill ends the stopped job when it expires, without fg"
BG=
set +m
is "$(rec 'r["exit"]["cause"], r["credentials"][0]["expired"], r["job_control"]["stops"]')" \
	"('credential_expired', True, 1)" "the record: credential_expired, after the stop"
[ -n "$(cat /sys/fs/cgroup/*/"$ISO_PARENT"/*/cgroup.procs /sys/fs/cgroup/"$ISO_PARENT"/*/cgroup.procs 2>/dev/null)" ]
ok $((1 - $?)) "no process of the run is left in its cgroups"

# The issuer grants an hour (OAuth2 has no way to ask for less): airlock holds the grant to
# its ttl all the same; the task is ended then, the record says both expiries.
policy heldttl 60s '{ "name": "api", "source": "issuer:idp", "ttl": "2s", "on_expiry": "kill", "deliver": { "file": "/run/secrets/api" } }'
run good heldttl -- /bin/sleep 30
is "$RC" 124 "a grant of 2s whose issuer grants an hour ends the task at its ttl (on_expiry kill)"
[ "$RC" -eq 124 ] || show
is "$(rec 'r["exit"]["cause"], r["credentials"][0]["expired"], r["credentials"][0]["revocation"]')" \
	"('credential_expired', True, 'revoked')" "the record says it expired, and it was revoked at the end"
is "$(evs 'cev')" \
	"[('credential_expired', 'api', 'kill', True, None, None), ('credential_revoked', 'api', None, None, 'revoked', None)]" \
	"the event log says the kill grant expired and was revoked"
is "$(rec "$LIFE, $ISSUER_LIFE")" "(2, 3600)" \
	"the record's expires_at is the grant's ttl on, issuer_expires_at the issuer's hour"
revoked "$(last_token)" && ok 0 "the server saw the revocation" || ok 1 "the server saw the revocation"

# ---- on_expiry "record": the task goes on, its token is revoked at the grant's ttl ----
# The issuer grants an hour, the grant's ttl is 3s. The issuer holds the revocation
# (/revoke-gated) until the test opens its gate: the task's output must keep flowing
# meanwhile (the request is off airlock's loop). The task uses its token until the server
# refuses it, then exits 0: the server saw the revocation before the task ended.
conf gated /token "" 30s /revoke-gated
policy recttl 60s '{ "name": "api", "source": "issuer:idp", "ttl": "3s", "on_expiry": "record", "deliver": { "file": "/run/secrets/api" } }'
USE='import time, urllib.error, urllib.request
t = open("/run/secrets/api").read()
def use():
    r = urllib.request.Request("http://'$ISSUER':8080/protected", headers={"Authorization": "Bearer " + t})
    try:
        return urllib.request.urlopen(r, timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
print("before", use(), flush=True)
for i in range(3000):
    s = use()
    print("tick", i, s, flush=True)
    if s != 200:
        break
    time.sleep(0.1)
print("refused", s, flush=True)'
# gated_run: starts the task above with its gate closed, waits for its token to be minted
# (t) and for the revocation at its ttl to reach the issuer.
gated_run() {
	local n0
	rm -f "$LOG.gate"
	n0=$(minted)
	airlock_bg --config "$TMP/gated.conf" --policy "$TMP/recttl.json" \
		--record "$TMP/record.json" -- /usr/bin/python3 -c "$USE"
	for _ in $(seq 100); do [ "$(minted)" -gt "$n0" ] && break; sleep 0.1; done
	t=$(last_token)
	for _ in $(seq 300); do grep -qx "revoke-start $t" "$LOG" && break; sleep 0.1; done
}
gated_run
grep -qx "revoke-start $t" "$LOG"
ok $? "at the grant's ttl, airlock asks the issuer to revoke the token (on_expiry record)" || show
n1=$(grep -c '^tick' "$TMP/out")
sleep 1.5
n2=$(grep -c '^tick' "$TMP/out")
if [ "$n2" -gt "$n1" ] && ! grep -qx "revoke $t" "$LOG" && kill -0 "$BG" 2>/dev/null; then
	ok 0 "the task's output keeps flowing while the revocation is out ($n1, then $n2 lines)"
else
	ok 1 "the task's output keeps flowing while the revocation is out ($n1, then $n2 lines)"
	show
fi
touch "$LOG.gate"
wait "$BG"
RC=$?
BG=
is "$RC $(head -n1 "$TMP/out") $(tail -n1 "$TMP/out")" "0 before 200 refused 401" \
	"the task went on past the expiry and saw its token refused by the issuer, then exited"
is "$(awk -v t="$t" '$2 == t && $1 == "revoke" { print $1 } $2 == t && $1 == "use" { print $1, $3 }' "$LOG" | uniq | tr '\n' ' ')" \
	"use 200 revoke use 401 " "the server saw the token work, its revocation, then refused it"
is "$(rec 'r["exit"]["cause"], r["credentials"][0]["expired"], r["credentials"][0]["revocation"], r["credentials"][0]["expires_at"] <= r["credentials"][0]["revoked_at"] <= r["ended_at"]')" \
	"('exited', True, 'revoked', True)" \
	"the record: expired, revoked after its expiry and before the run ended"
is "$(grep -c "^revoke-start $t\$" "$LOG")" 1 "the run's end did not revoke it again"
is "$(evs 'cev')" "[('credential_expired', 'api', 'record', True, None, None), ('credential_revoked', 'api', None, None, 'revoked', None)]" \
	"the event log says the grant expired and is revoked, then that the revocation succeeded"
# Each line when it happened: the expiry once the grant's expires_at passed, the
# revocation's end at the record's revoked_at (the issuer held it until the gate opened),
# both before the run ended and the task's exit line.
is "$(evs '[e["type"] for e in ev][-3:], [e["time"] >= r["credentials"][0]["expires_at"] for e in ev if e["type"].startswith("credential_")], [r["credentials"][0]["revoked_at"] <= e["time"] <= r["ended_at"] for e in ev if e["type"] == "credential_revoked"], [e["expires_at"] == r["credentials"][0]["expires_at"] for e in ev if e["type"] == "credential_expired"]')" \
	"(['credential_expired', 'credential_revoked', 'task_exit'], [True, True], [True], [True])" \
	"the events come at the expiry and at the revocation's end (the record's revoked_at), before the exit"
grep -q "credential 'api' from issuer 'idp' expired while the task runs: the task goes on (on_expiry \"record\"), revoking the credential at the issuer" "$TMP/err"
ok $? "airlock says the grant expired and is being revoked" || show

# A stop signal while that revocation is out is acted on at once: the task ends, the
# revocation is not cut short (that would leave the token valid) and is not sent twice.
gated_run
kill -TERM "$BG"
sleep 2
n1=$(grep -c '^tick' "$TMP/out")
sleep 1
n2=$(grep -c '^tick' "$TMP/out")
if [ "$n1" -eq "$n2" ] && kill -0 "$BG" 2>/dev/null && ! grep -qx "revoke $t" "$LOG"; then
	ok 0 "SIGTERM during a revocation at expiry ends the task at once; airlock waits for the revocation"
else
	ok 1 "SIGTERM during a revocation at expiry ends the task at once ($n1, then $n2 lines)"
	show
fi
touch "$LOG.gate"
wait "$BG"
RC=$?
BG=
is "$RC $(grep -c "^revoke-start $t\$" "$LOG") $(grep -c "^revoke $t\$" "$LOG")" "143 1 1" \
	"the run ends (128+SIGTERM) once the revocation is done, sent once"
is "$(rec 'r["exit"]["cause"], r["credentials"][0]["expired"], r["credentials"][0]["revocation"]')" \
	"('signaled', True, 'revoked')" \
	"the record: the task died of the SIGTERM passed on, the grant expired and was revoked"
is "$(evs 'cev, [e["type"] for e in ev][-1]')" \
	"([('credential_expired', 'api', 'record', True, None, None), ('credential_revoked', 'api', None, None, 'revoked', None)], 'task_exit')" \
	"the event log has the revocation the run's end waited for, before the exit"
rm -f "$LOG.gate"

# The job stopped (^Z) before the grant expires: airlock is stopped too, and its threads
# with it. The expiry continues airlock for the revocation alone (the gated issuer shows
# when it came), the task held all along; once the issuer answered, airlock stops again,
# until the job is continued.
policy recttl5 60s '{ "name": "api", "source": "issuer:idp", "ttl": "5s", "on_expiry": "record", "deliver": { "file": "/run/secrets/api" } }'
st() { sed 's/.*) //' "/proc/$BG/stat" 2>&1 | cut -c1; }
set -m # a job of its own, whose stop signal stops it (not an orphaned process group)
airlock_bg --config "$TMP/gated.conf" --policy "$TMP/recttl5.json" --record "$TMP/record.json" \
	-- /bin/sh -c 'echo started; sleep 2; echo resumed'
wait_started
t=$(last_token)
kill -TSTP "$BG"
for _ in $(seq 50); do [ "$(st)" = T ] && break; sleep 0.1; done
is "$(st) $(grep -c "^revoke-start $t\$" "$LOG")" "T 0" "the job is stopped before its grant expires"
for _ in $(seq 300); do grep -qx "revoke-start $t" "$LOG" && break; sleep 0.1; done
grep -qx "revoke-start $t" "$LOG"
ok $? "at the grant's expiry, airlock asks the issuer to revoke it, the job still stopped" || show
touch "$LOG.gate"
for _ in $(seq 100); do grep -qx "revoke $t" "$LOG" && [ "$(st)" = T ] && break; sleep 0.1; done
is "$(st) $(grep -c "^revoke $t\$" "$LOG") $(grep -c '^resumed' "$TMP/out")" "T 1 0" \
	"once the issuer revoked it, airlock is stopped again, its task held (no output)"
# reap_bg: RC is BG's status once it is gone; wait returns 128+SIGTSTP for a stop bash
# learns of only now, so it is asked again until BG has ended.
reap_bg() {
	for _ in $(seq 100); do
		wait "$BG"
		RC=$?
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	BG=
}
kill -CONT "$BG"
reap_bg
set +m
is "$RC $(tr '\n' ' ' <"$TMP/out")" "0 started resumed " "continued, the task goes on to its end"
is "$(rec 'r["job_control"]["stops"], r["credentials"][0]["expired"], r["credentials"][0]["revocation"]')" \
	"(1, True, 'revoked')" "the record: one stop, the grant expired and was revoked"
is "$(evs 'cev, [e["type"] for e in ev][-1]')" \
	"([('credential_expired', 'api', 'record', True, None, None), ('credential_revoked', 'api', None, None, 'revoked', None)], 'task_exit')" \
	"the event log has the expiry and the revocation made while the job was stopped"
is "$(grep -c "^revoke-start $t\$" "$LOG")" 1 "the revocation was sent once"
rm -f "$LOG.gate"

# The same stop, and SIGTERM alone while that revocation is out: what the shell's `kill %1`
# sends (and ^C, SIGINT) to a job it sees running since the timer continued it; no SIGCONT
# comes. Once the issuer answered, airlock does not stop again: the run ends (128+SIGTERM).
# pstate: BG's one-letter state, empty once it is gone.
pstate() { sed 's/.*) //' "/proc/$BG/stat" 2>/dev/null | cut -c1; }
# logged LINE: waits (up to 30 s) for the issuer to log LINE, in a shell of its own: bash
# under set -m leaves the loops it runs when a job of its stops.
logged() { sh -c 'for _ in $(seq 300); do grep -qx "$0" "$1" && exit 0; sleep 0.1; done; exit 1' "$1" "$LOG"; }
set -m
airlock_bg --config "$TMP/gated.conf" --policy "$TMP/recttl5.json" --record "$TMP/record.json" \
	-- /bin/sh -c 'echo started; sleep 3; echo resumed'
wait_started
t=$(last_token)
kill -TSTP "$BG"
for _ in $(seq 50); do [ "$(pstate)" = T ] && break; sleep 0.1; done
is "$(pstate) $(grep -c "^revoke-start $t\$" "$LOG")" "T 0" \
	"kill while revoking: the job is stopped before its grant expires"
logged "revoke-start $t"
sleep 0.5
s=$(pstate)
is "$(grep -c "^revoke-start $t\$" "$LOG") $([ "$s" = T ] && echo stopped || echo continued)" "1 continued" \
	"kill while revoking: at the expiry, the timer continued airlock for the revocation" || show
kill -TERM "$BG"
touch "$LOG.gate"
# Generous (the wall time, 60 s, is further): the revocation's answer, then the SIGTERM's
# way through the task. Stopped (T) once the issuer logged the revocation is stopped
# again. Polled in a shell of its own: bash under set -m leaves its loops when a job stops.
ended=$(sh -c 'for _ in $(seq 300); do
		s=$(sed "s/.*) //" "/proc/$0/stat" 2>/dev/null | cut -c1)
		case "$s" in "" | Z) echo ended; exit ;; esac
		grep -qx "revoke $1" "$2" && [ "$(sed "s/.*) //" "/proc/$0/stat" 2>/dev/null | cut -c1)" = T ] &&
			{ echo "stopped again"; exit; }
		sleep 0.1
	done
	echo "state $s"' "$BG" "$t" "$LOG")
[ "$ended" = ended ] || { kill -TERM "$BG"; kill -CONT "$BG"; } # the case failed: end it
reap_bg
set +m
is "$ended $RC $(grep -c "^revoke $t\$" "$LOG")" "ended 143 1" \
	"SIGTERM alone (kill %1) during the revocation of a stopped job: the run ends once it is revoked, not stopped again"
is "$(tr '\n' ' ' <"$TMP/out")" "started " "the task was ended held: nothing of it after the stop"
is "$(rec 'r["exit"]["cause"], r["job_control"]["stops"], r["credentials"][0]["expired"], r["credentials"][0]["revocation"]')" \
	"('signaled', 1, True, 'revoked')" \
	"the record: the task died of the SIGTERM passed on, one stop, the grant expired and revoked"
is "$(evs 'cev, [e["type"] for e in ev][-1]')" \
	"([('credential_expired', 'api', 'record', True, None, None), ('credential_revoked', 'api', None, None, 'revoked', None)], 'task_exit')" \
	"the event log has the expiry and the revocation, then the task's exit"
is "$(grep -c "^revoke-start $t\$" "$LOG") $(state_left)" "1 " \
	"the revocation was sent once, and its state is gone"
[ -n "$(cat /sys/fs/cgroup/*/"$ISO_PARENT"/*/cgroup.procs /sys/fs/cgroup/"$ISO_PARENT"/*/cgroup.procs 2>/dev/null)" ]
ok $((1 - $?)) "no process of the run is left in its cgroups"
rm -f "$LOG.gate"

# ^Z and fg typed in an interactive shell on a terminal (a pty): the shell sees the job
# continued by the revocation's timer, and its fg then sends no SIGCONT; it only gives the
# job the terminal. Once the revocation is done, airlock goes on: the task's output after
# the stop arrives, the shell never reports the job stopped again, the run exits 0.
cp "$NET_DIR/pty_drive.py" "$TMP/"
cat >"$TMP/pty-job.py" <<'PY'
import os, re, shlex, sys
import pty_drive
netns, rundir, log, transcript, cmd = sys.argv[1:5] + [shlex.join(sys.argv[5:])]
try:
    term = pty_drive.spawn(["nsenter", "--net=/run/netns/" + netns, "unshare", "-m",
                            "--propagation", "private", "--", "/bin/sh", "-c",
                            'mount --bind "$0" /run/airlock && exec bash --norc --noprofile -i', rundir],
                           {"PS1": "$ ", "TERM": "dumb"}, transcript)
except pty_drive.NoPty as e:
    print("no-pty", e)
    sys.exit(0)
def logged(pat):
    with open(log) as f:
        return re.search(pat, f.read(), re.M)
term.pump(1)
term.send(cmd + "\n")
print("started", bool(term.expect(rb"^started\r?$", 60)))
t = (re.findall(r"^mint (\S+)", open(log).read(), re.M) or ["none"])[-1]
job = term.foreground()  # the foreground job: airlock's process group
print("revoking-before-stop", bool(logged("^revoke-start " + re.escape(t) + "$")))
term.send(b"\x1a")  # ^Z
print("shell-says-stopped", bool(term.expect(rb"Stopped", 15)))
print("revoking", term.wait(lambda: logged("^revoke-start " + re.escape(t) + "$"), 60))
term.pump(0.5)
mark = len(term.out)
term.send(b"jobs\n")
m = term.expect(rb"^\[1\]\+\s+(\w+)", 10, since=mark)
print("jobs-says", m.group(1).decode() if m else "none")
fg_at = len(term.out)
print("output-held", not term.said(rb"^resumed\r?$"))
term.send(b"fg\n")
print("fg-has-terminal", term.wait(lambda: term.foreground() == job, 15))
print("fg-before-revoked", not logged("^revoke " + re.escape(t) + "$"))
open(log + ".gate", "w").close()
resumed = bool(term.expect(rb"^resumed\r?$", 30, since=fg_at))
print("resumed", resumed)
if not resumed:  # stopped again: continue it for real, so that the run ends
    term.pump(1)
    term.send(b"fg\n")
    term.expect(rb"^resumed\r?$", 30, since=fg_at)
term.wait(lambda: term.foreground() == term.pid, 30)  # the shell has its terminal back: the job ended
term.pump(0.5)
mark = len(term.out)
term.send(b"echo rc=$?\n")
m = term.expect(rb"rc=(\d+)", 10, since=mark)
print("rc", m.group(1).decode() if m else "none")
print("shell-said-stopped", len(re.findall(rb"Stopped", term.out)))
term.send(b"exit\n")
term.pump(1)
if job > 0:
    for sig in (15, 18):  # anything of the job still there (the case failed)
        try:
            os.killpg(job, sig)
        except OSError:
            pass
term.close()
PY
rm -f "$LOG.gate" "$TMP/out"
res=$(timeout 300 python3 "$TMP/pty-job.py" "$NET_H" "$TMP/run" "$LOG" "$TMP/pty.out" \
	"$AIRLOCK" run --workspace "$TMP/ws" --state-dir "$TMP/state" --config "$TMP/gated.conf" \
	--policy "$TMP/recttl5.json" --record "$TMP/record.json" \
	-- /bin/sh -c 'echo started; sleep 3; echo resumed' 2>&1)
field() { echo "$res" | awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }'; }
showpty() { echo "$res" | sed 's/^/# driver: /'; tr -d '\r' <"$TMP/pty.out" 2>/dev/null | sed 's/^/# pty: /' | tail -n 30; }
if [ -n "$(field no-pty)" ]; then
	for d in "the shell reports the ^Z" "fg on a terminal during the revocation" \
		"the exit status" "the record" "the revocation" "nothing left"; do
		N=$((N + 1))
		echo "ok $N # SKIP no pty on this host ($(field no-pty)): $d"
	done
else
	t=$(last_token)
	is "$(field started) $(field revoking-before-stop) $(field shell-says-stopped) $(field revoking) $(field jobs-says)" \
		"True False True True Running" \
		"on a terminal: ^Z stops the job before its grant expires; at the expiry the shell sees it running" || showpty
	is "$(field output-held) $(field fg-has-terminal) $(field fg-before-revoked) $(field resumed)" \
		"True True True True" \
		"fg typed during the revocation (no SIGCONT, the terminal given): the task's output after the stop arrives" || showpty
	is "$(field shell-said-stopped) $(field rc)" "1 0" \
		"the shell reports the job stopped once (the ^Z), not again after the revocation; the run exits 0" || showpty
	is "$(rec 'r["exit"]["cause"], r["job_control"]["stops"], r["credentials"][0]["expired"], r["credentials"][0]["revocation"]')" \
		"('exited', 1, True, 'revoked')" "the record: one stop, the grant expired and was revoked"
	is "$(grep -c "^revoke-start $t\$" "$LOG") $(grep -c "^revoke $t\$" "$LOG") $(state_left)" "1 1 " \
		"the revocation was sent once, and its state is gone"
	[ -n "$(cat /sys/fs/cgroup/*/"$ISO_PARENT"/*/cgroup.procs /sys/fs/cgroup/"$ISO_PARENT"/*/cgroup.procs 2>/dev/null)" ]
	ok $((1 - $?)) "no process of the run is left in its cgroups"
fi
rm -f "$LOG.gate"

# The revocation at expiry fails (HTTP 500): the task goes on, the run's end tries again.
policy recttl2 60s '{ "name": "api", "source": "issuer:idp", "ttl": "2s", "on_expiry": "record", "deliver": { "file": "/run/secrets/api" } }'
run revfail recttl2 -- /bin/sh -c 'sleep 4; echo done'
t=$(last_token)
is "$RC $(cat "$TMP/out") $(grep -c "^revoke-failed $t\$" "$LOG")" "0 done 2" \
	"a revocation at expiry the issuer refuses: the task goes on; the run's end tries once more"
is "$(rec 'r["credentials"][0]["expired"], r["credentials"][0]["revocation"], r["credentials"][0]["revocation_error"]')" \
	"(True, 'failed', 'HTTP 500 from POST https://$ISSUER/revoke-500')" \
	"the record says the grant expired and its revocation failed, with the error"
grep -q "Failed to revoke expired credential 'api' at issuer 'idp': HTTP 500 .*; retrying when the run ends" "$TMP/err"
ok $? "airlock warns when the revocation at expiry fails" || show
is "$(evs 'cev')" \
	"[('credential_expired', 'api', 'record', True, None, None), ('credential_revoked', 'api', None, None, 'failed', 'HTTP 500 from POST https://$ISSUER/revoke-500')]" \
	"the event log says the revocation at expiry failed, and why (the run's end's retry is the record's)"
run good plain -- /bin/true
revoked "$t" && ok 0 "its state stayed: the next start revokes it" || { ok 1 "its state stayed: the next start revokes it"; show; }

# ---- SIGKILL after a grant's revocation at expiry, and after its issuer's expiry ----
# The issuer's 2 s: airlock revokes the token then, and is killed after. The next start
# finds what the run left (<grant>.result): the aborted record says revoked, not pending,
# and nothing is revoked twice.
airlock_bg --config "$TMP/short.conf" --policy "$TMP/long.json" -- /bin/sleep 30
n0=$(minted)
for _ in $(seq 100); do [ "$(minted)" -gt "$n0" ] && break; sleep 0.1; done
t=$(last_token)
for _ in $(seq 300); do [ -n "$(find "$TMP/run/credentials" -name api.result)" ] && break; sleep 0.1; done
kill -KILL "$BG"
wait "$BG" 2>/dev/null
BG=
dead=$(ls "$TMP/run/credentials")
run good plain -- /bin/true
is "$RC $(dead_grant "$dead") $(grep -c "^revoke $t\$" "$LOG")" "0 aborted revoked True - 1" \
	"a grant revoked at its expiry before a SIGKILL: the aborted record says revoked; sent once"
is "$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["credentials"][0]["expired"])' "$TMP/state/records/$dead.json")" True \
	"and that it had expired while the task ran"
is "$(state_left)" "" "what the dead run left of it is gone"
# Killed before the issuer's 5 s (as soon as its task runs), the next start after them:
# nothing left to revoke.
airlock_bg --config "$TMP/short5.conf" --policy "$TMP/long.json" -- /bin/sh -c 'echo started; exec sleep 30'
for _ in $(seq 100); do grep -q '^started' "$TMP/out" && break; sleep 0.1; done
kill -KILL "$BG"
wait "$BG" 2>/dev/null
BG=
t=$(last_token)
dead=$(ls "$TMP/run/credentials")
sleep 6
run good plain -- /bin/true
is "$RC $(dead_grant "$dead")" "0 aborted expired False -" \
	"a grant expired at its issuer before the next start: the aborted record says expired"
is "$(grep -c "^revoke $t\$" "$LOG") $(state_left)" "0 " "no revocation was sent for it, and its state is gone"
# This test server never expires a token by itself: revoked here, for the checks below.
ip netns exec "$NET_I" curl -s --cacert "$TMP/ca.pem" -u airlock:s3cret -d "token=$t" \
	"https://$ISSUER/revoke" >/dev/null

# ---- a lifetime past any clock (expires_in 2^63 - 1) is taken as the longest there is ----
conf forever /token-forever
run forever long -- /bin/true
is "$RC" 0 "a token said to live 2^63-1 seconds is used and the run succeeds"
[ "$RC" -eq 0 ] || show
revoked "$(last_token)" && ok 0 "the long-lived token was revoked when the run ended" ||
	ok 1 "the long-lived token was revoked when the run ended"
is "$(rec 'int(r["credentials"][0]["issuer_expires_at"][:4]) - int(r["credentials"][0]["issued_at"][:4]) in (68, 69)')" \
	True "the issuer's expiry is recorded 2^31-1 seconds on, not past the end of time"
is "$(rec "$LIFE")" 60 "the grant's own expiry is the lifetime asked for (the run's wall time, 60s)"

# ---- airlock config check parses each issuer as strictly as a run ----
"$AIRLOCK" config check "$TMP/good.conf" >"$TMP/out" 2>&1
is "$?" 0 "config check accepts the issuers"
sed 's/"timeout"/"timeuot"/' "$TMP/good.conf" >"$TMP/typo.conf"
chmod 644 "$TMP/typo.conf"
"$AIRLOCK" config check "$TMP/typo.conf" >"$TMP/out" 2>&1
rc=$?
is "$rc $(cat "$TMP/out")" "1 airlock: config: /credentials/issuers/idp: timeuot: unknown key" \
	"config check names an issuer's unknown key"

# ---- every mint failure refuses the run, in one line, and leaves nothing behind ----
# refused CONF POLICY PATTERN DESCRIPTION
refused() {
	run "$1" "$2" -- /bin/true
	local lines
	lines=$(grep -cv -e '^airlock: removed the cgroups' -e '^airlock: marked the record' "$TMP/err")
	if [ "$RC" -eq 125 ] && [ "$lines" -eq 1 ] && grep -qE -- "$3" "$TMP/err"; then
		ok 0 "$4"
	else
		ok 1 "$4"
		show
	fi
	is "$(state_left)" "" "$4: no revocation state left"
	is "$(unrevoked)" "" "$4: nothing minted left unrevoked"
}
conf wrongca /token "$TMP/otherca.pem"
refused wrongca long "credential 'api' from issuer 'idp': .*(SSL|certificate)" "a wrong CA refuses the run"
conf e500 /token-500
refused e500 long "credential 'api' from issuer 'idp': HTTP 500 from POST https://$ISSUER/token-500" \
	"an HTTP 500 refuses the run"
is "$(rec '[k for k in ("bytes", "fingerprint", "issued_at") if k in r["credentials"][0]]')" "[]" \
	"the refused run's record describes no value for the grant never minted"
conf slowsrv /token-slow "" 1s
refused slowsrv long "credential 'api' from issuer 'idp': .*(timed out|Timeout)" "a slow issuer times out and refuses the run"
conf bad /token-bad
refused bad long "credential 'api' from issuer 'idp': response of POST https://$ISSUER/token-bad is not a JSON object" \
	"a malformed response refuses the run"
conf big /token-big
refused big long "credential 'api' from issuer 'idp': response of POST https://$ISSUER/token-big larger than 65536 bytes\$" \
	"an oversized response refuses the run"
# One good grant and one that fails: the good one is revoked at once.
policy mixed 60s "$G_VAULT" "$G_API"
n0=$(minted)
refused e500 mixed "HTTP 500" "a failing grant beside a good one refuses the run" ||
	tail -n 4 "$LOG" | sed 's/^/# log: /'
is "$(($(minted) - n0))" 1 "the good grant was minted (and revoked, above)" || tail -n 5 "$LOG" | sed 's/^/# log: /'
# term_bg: SIGTERM to the airlock in the background; sets RC, and ms (until it ended).
term_bg() {
	local start
	start=$(date +%s%N)
	kill -TERM "$BG"
	wait "$BG"
	RC=$?
	BG=
	ms=$((($(date +%s%N) - start) / 1000000))
}
# SIGTERM while a slow issuer has not answered (it would, with a 503, after 5 s): the
# request is cancelled within about a second instead of the issuer's 10 s timeout, the run
# is refused in one line, and the grant minted beside it is revoked.
conf slowlong /token-slow
n0=$(minted)
airlock_bg --config "$TMP/slowlong.conf" --policy "$TMP/mixed.json" --record "$TMP/record.json" -- /bin/true
for _ in $(seq 100); do [ "$(minted)" -gt "$n0" ] && break; sleep 0.1; done
sleep 0.5
term_bg
lines=$(grep -cv -e '^airlock: removed the cgroups' -e '^airlock: marked the record' "$TMP/err")
if [ "$RC" -eq 125 ] && [ "$lines" -eq 1 ] && [ "$ms" -lt 3000 ] &&
	grep -qx "airlock: refusing run: credential 'api' from issuer 'idp': interrupted by SIGTERM while minting" "$TMP/err"; then
	ok 0 "SIGTERM during a slow mint refuses the run at once (${ms} ms), in one line"
else
	ok 1 "SIGTERM during a slow mint refuses the run at once (exit $RC, ${ms} ms)"
	show
fi
is "$(rec 'r["exit"]["cause"]')" refused "the record says the run was refused"
is "$(unrevoked)" "" "the grant minted before the signal was revoked"
is "$(state_left)" "" "no revocation state left after the interrupted mint"
# The same while the issuer's name is still being looked up, at a name server that never
# answers (20 s of the resolver's own timeouts): libcurl waited for its resolver thread
# once told to stop, so SIGTERM took the whole lookup instead of about a second.
sed -e "s|https://$ISSUER/token|https://idp.airlock.test/token|" -e 's|"timeout": "10s"|"timeout": "60s"|' \
	"$TMP/good.conf" >"$TMP/slowdns.conf"
printf 'nameserver 11.9.9.53\noptions timeout:10 attempts:2\n' >"$TMP/resolv.conf"
policy dnsapi 60s "$G_API"
(
	exec nsenter --net="/run/netns/$NET_H" unshare -m --propagation private -- /bin/sh -c \
		'mount --bind "$0" /run/airlock && mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' \
		"$TMP/run" "$TMP/resolv.conf" "$AIRLOCK" run --workspace "$TMP/ws" --state-dir "$TMP/state" \
		--config "$TMP/slowdns.conf" --policy "$TMP/dnsapi.json" --record "$TMP/record.json" -- /bin/true
) >"$TMP/out" 2>"$TMP/err" </dev/null &
BG=$!
sleep 2
kill -0 "$BG" 2>/dev/null
ok $? "the mint waits on the issuer's name (no answer)" || show
term_bg
if [ "$RC" -eq 125 ] && [ "$ms" -lt 4000 ] &&
	grep -qx "airlock: refusing run: credential 'api' from issuer 'idp': interrupted by SIGTERM while minting" "$TMP/err"; then
	ok 0 "SIGTERM during an issuer's name lookup refuses the run at once (${ms} ms)"
else
	ok 1 "SIGTERM during an issuer's name lookup refuses the run at once (exit $RC, ${ms} ms)"
	show
fi
is "$(state_left)" "" "no revocation state left after the mint interrupted in its lookup"
# A scope longer than the request can carry is refused, never cut short (a cut scope is
# another scope): as one string, and as an array of strings.
long_scope=$(printf 'repo:%04d ' $(seq 300))
policy longscope 60s '{ "name": "api", "source": "issuer:idp", "ttl": "1m", "scope": "'"${long_scope% }"'", "deliver": { "env": "X" } }'
refused good longscope "credential 'api' from issuer 'idp': scope: longer than [0-9]+ bytes" \
	"a scope string too long for the request refuses the run"
policy longscopes 60s '{ "name": "api", "source": "issuer:idp", "ttl": "1m", "scope": ["'"$(echo ${long_scope% } | sed 's/ /", "/g')"'"], "deliver": { "env": "X" } }'
refused good longscopes "credential 'api' from issuer 'idp': scope: longer than [0-9]+ bytes" \
	"a scope array too long for the request refuses the run, saying why"
policy unknown 60s '{ "name": "x", "source": "issuer:nope", "ttl": "1m", "deliver": { "env": "X" } }'
refused good unknown "credential 'x' of policy 'unknown' names issuer 'nope', which the node configuration does not define" \
	"a grant naming an unknown issuer refuses the run"
chmod 640 "$TMP/client.secret"
refused good long "client secret file '$TMP/client.secret': readable or writable by group or others" \
	"a client secret readable by its group refuses the run"
chmod 600 "$TMP/client.secret"

# No token ever minted here is in any file the runs left.
leak=$(awk '$1 == "mint" { print $2 }' "$LOG" | while read -r t; do
	grep -rlaF -- "$t" "$TMP/state" "$TMP/run" "$TMP/ws"
done)
is "$leak" "" "no minted token is in any record or file left behind"

# Every record and event log the test left, against docs/run-record.schema.json.
schema_case() {
	local out rc
	out=$(timeout 300 python3 "$SRC/tests/lib/record-schema.py" validate \
		"$SRC/docs/run-record.schema.json" "$TMP" 2>&1)
	rc=$?
	ok $rc "records and event logs validate against docs/run-record.schema.json"
	[ $rc -eq 0 ] || echo "$out" | tail -n 20 | sed 's/^/# /'
}
schema_case

echo "1..$N"
[ "$FAILED" -eq 0 ]
