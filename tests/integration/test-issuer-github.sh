#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The github_app issuer kind against a GitHub-App-compatible test server over real TLS
# (issuer-servers.py, a CA made at test time), in the throw-away namespaces of the network
# tests: the kind's JWT (jwt.c) verifies with the app's public key, the token is scoped to
# the grant's repositories, a task clones the granted repository over HTTPS with it (git's
# credential helper reading the delivered file: docs/credentials.md) and is refused the
# other, the token is revoked (the server saw the DELETE), and its value is left in no
# record, log or file; a JWT of another key, a scope beyond the installation and a server
# that misbehaves each refuse the mint with one line.
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
ok() { N=$((N + 1)); if [ "$1" -eq 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=$((FAILED + 1)); fi; }
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; fi
}
# logged EVENT-FILTER (a python expression over e, one JSON line of the server's log): count
logged() {
	python3 -c 'import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    n += bool(eval(sys.argv[2]))
print(n)' "$TMP/issuers.jsonl" "$1"
}

[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root"; exit 77; }
for t in "${NET_TOOLS[@]}" openssl git curl; do
	command -v "$t" >/dev/null || { echo "Bail out! not installed: $t (setup.sh installs it)"; exit 1; }
done
python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "Bail out! not installed: python3-cryptography (setup.sh installs it)"; exit 1; }
lacks=$(net_kernel_lacks | tr '\n' ' ')
[ -z "$lacks" ] || { echo "1..0 # SKIP the kernel lacks: $lacks"; exit 77; }

TMP=$(mktemp -d /tmp/airlock-ghapp-XXXXXX)
ISSUERS_PID=
cleanup() {
	[ -n "${ISSUERS_FD:-}" ] && exec {ISSUERS_FD}>&-
	[ -n "$ISSUERS_PID" ] && kill "$ISSUERS_PID" 2>/dev/null
	net_world_down
	rm -rf "$TMP"
}
trap cleanup EXIT
# The test's environment may point git and curl at the system's CAs; the test CA is named
# explicitly everywhere.
unset GIT_SSL_CAINFO CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
mkdir -p "$TMP/ws" "$TMP/state" "$TMP/repos"

export NET_ZONE='{"github.test": [["A", 60, "11.1.0.60"]]}'
net_world_up "$TMP" || { echo "Bail out! cannot build the test namespaces"; exit 1; }
ip -n "$NET_I" addr add 11.1.0.60/32 dev lo

issuer_ca_make "$TMP" && issuer_cert_make "$TMP" server DNS:github.test IP:11.1.0.60 &&
	issuer_app_key "$TMP" app && issuer_app_key "$TMP" other ||
	{ echo "Bail out! cannot make the test CA and keys"; exit 1; }
for r in org/a org/b org/c; do
	issuer_git_repo "$TMP/repos" "$r" || { echo "Bail out! cannot make the repository $r"; exit 1; }
done
cp "$TMP/ca.pem" "$TMP/ws/ca.pem"

# The installation 77 of app 4242 reaches org/a and org/b (not org/c).
cat >"$TMP/servers.json" <<JSON
{ "listen": ["11.1.0.60:443"], "cert": "$TMP/server.pem", "key": "$TMP/server.key",
  "log": "$TMP/issuers.jsonl", "faults": "$TMP/faults.json",
  "github": { "app_id": "4242", "public_key": "$TMP/app.pub.pem", "git_root": "$TMP/repos",
              "installations": { "77": { "account": "org", "repositories": ["a", "b"],
                  "permissions": { "contents": "write", "metadata": "read", "issues": "write" } } } } }
JSON
mkfifo "$TMP/issuers.in"
ip netns exec "$NET_I" python3 "$NET_DIR/issuer-servers.py" --config "$TMP/servers.json" \
	<"$TMP/issuers.in" >"$TMP/issuers.out" 2>&1 &
ISSUERS_PID=$!
exec {ISSUERS_FD}>"$TMP/issuers.in"
for _ in $(seq 50); do
	grep -q ready "$TMP/issuers.out" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$TMP/issuers.out" || { echo "Bail out! the issuer servers did not start"; cat "$TMP/issuers.out"; exit 1; }

# The issuers as the node configuration defines them (docs/config.md), the keys root-only:
# github signs with the app's key, github-other with another one, github-bad with a file
# that is no key.
echo 'not a key' >"$TMP/bad.key" && chmod 600 "$TMP/bad.key"
issuer() { # issuer KEYFILE
	printf '{ "kind": "github_app", "api_url": "https://11.1.0.60/", "app_id": 4242,
    "installation_id": "77", "private_key_file": "%s", "ca_file": "%s" }' "$1" "$TMP/ca.pem"
}
cat >"$TMP/airlock.json" <<JSON
{ "version": 1, "credentials": { "issuers": {
  "github": $(issuer "$TMP/app.key"),
  "github-other": $(issuer "$TMP/other.key"),
  "github-bad": $(issuer "$TMP/bad.key") } } }
JSON
chmod 644 "$TMP/airlock.json"
# policy NAME ISSUER REPOSITORY: a networked policy with one grant of ISSUER scoped to
# REPOSITORY (contents: read), delivered as a file that git's credential helper reads
# (docs/credentials.md): no value in a URL, an argument or the environment.
policy() {
	cat >"$TMP/$1.json" <<JSON
{ "version": 1, "name": "$1", "limits": { "wall_time": "60s" },
  "network": { "egress": [ { "host": "github.test", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } },
  "environment": {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "credential.https://github.test.helper",
    "GIT_CONFIG_VALUE_0": "!f() { test \"\$1\" = get && printf 'username=x-access-token\\\\npassword=%s\\\\n' \"\$(cat /run/secrets/gh)\"; }; f",
    "GIT_CONFIG_KEY_1": "http.sslCAInfo",
    "GIT_CONFIG_VALUE_1": "/workspace/ca.pem"
  },
  "credentials": [ { "name": "gh", "source": "issuer:$2", "ttl": "15m",
                     "scope": { "repositories": ["$3"], "permissions": { "contents": "read" } },
                     "deliver": { "file": "/run/secrets/gh" } } ] }
JSON
}
run() { # run POLICY OUT ERR -- CMD...: airlock in the host namespace
	local pol=$1 out=$2 err=$3
	shift 4
	net_in_host "$AIRLOCK" run --config "$TMP/airlock.json" --policy "$TMP/$pol.json" \
		--workspace "$TMP/ws" --state-dir "$TMP/state" --record "$TMP/record-$pol.json" \
		-- "$@" >"$out" 2>"$err"
}

echo "1..28"

# ---- a run with a grant: mint, git in the task, revocation ----
policy gh-a github org/a
run gh-a "$TMP/out" "$TMP/err" -- /bin/sh -c '
	git clone -q https://github.test/org/a.git /tmp/a && echo "clone-a $(cat /tmp/a/README)"
	git clone -q https://github.test/org/b.git /tmp/b 2>/tmp/b.err; echo "clone-b $?"
	grep -q "returned error: 403" /tmp/b.err && echo "clone-b 403"
	echo "remote $(git -C /tmp/a remote get-url origin)"
	env | grep -c "$(cat /run/secrets/gh)" | sed "s/^/env-matches /"
	grep -rlF "$(cat /run/secrets/gh)" /tmp/a | sed "s/^/clone-holds /"
	true'
ok $? "a networked run with a github_app grant ends well"
sed 's/^/# err: /' "$TMP/err" | head -5
sed 's/^/# out: /' "$TMP/out"
TOKEN=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "mint" and e["kind"] == "github":
        print(e["token"])' "$TMP/issuers.jsonl" | head -n1)
[ -n "$TOKEN" ]
ok $? "the server minted an installation token for the run"
is "$(logged 'e["event"] == "mint" and e["request"] == {"repositories": ["a"], "permissions": {"contents": "read"}}')" 1 \
	"the request asked for the grant's repository by name and its permissions"
is "$(logged 'e["event"] == "mint" and e["claims"]["iss"] == "4242" and 0 < e["claims"]["exp"] - e["time"] <= 600 and e["claims"]["iat"] <= e["time"] - 59')" 1 \
	"the server verified the JWT with the app's public key: iss is the app, exp within 10 minutes, iat a minute back"
grep -qx 'clone-a repo org/a' "$TMP/out"
ok $? "git clone https://github.test/org/a.git works in the task (the granted repository)"
grep -qx 'clone-b 128' "$TMP/out" && grep -qx 'clone-b 403' "$TMP/out"
ok $? "git clone of org/b, outside the scope, is refused (403)"
is "$(logged 'e["event"] == "git_refused" and e["repo"] == "org/b" and e["status"] == 403')" 1 \
	"the server refused org/b for the token's scope"
is "$(grep '^remote ' "$TMP/out")" "remote https://github.test/org/a.git" \
	"the clone's remote URL holds no token"
grep -qx 'env-matches 0' "$TMP/out" && ! grep -q '^clone-holds' "$TMP/out"
ok $? "the task's environment and the clone hold no copy of the token"
is "$(logged "e['event'] == 'revoke' and e['kind'] == 'github' and e['result'] == 'revoked' and e['token'] == '$TOKEN'")" 1 \
	"the token was revoked when the run ended (the server saw DELETE /installation/token)"
is "$(python3 -c 'import json, sys
g = json.load(open(sys.argv[1]))["credentials"][0]
print(g["issuer"], g["kind"], json.dumps(g["scope"], sort_keys=True), g["revocation"])' "$TMP/record-gh-a.json")" \
	'github github_app {"permissions": {"contents": "read", "metadata": "read"}, "repositories": ["org/a"]} revoked' \
	"the record names the issuer and kind, the scope as GitHub granted it, and the revocation"
python3 -c 'import json, sys, calendar, time
g = json.load(open(sys.argv[1]))["credentials"][0]
t = lambda s: calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
sys.exit(not (0 < t(g["expires_at"]) - t(g["issued_at"]) <= 15 * 60 + 1))' "$TMP/record-gh-a.json"
ok $? "the record's expiry is the grant's ttl (15m), not GitHub's hour"
printf 'protocol=https\nhost=11.1.0.60\nusername=x-access-token\npassword=%s\n' "$TOKEN" >"$TMP/cred"
net_in_host git -c http.sslCAInfo="$TMP/ca.pem" -c credential.helper="!cat $TMP/cred #" \
	-c credential.interactive=never ls-remote https://11.1.0.60/org/a.git >/dev/null 2>&1
rc=$?
rm -f "$TMP/cred"
[ "$rc" -ne 0 ] && [ "$(logged "e['event'] == 'git_refused' and e['status'] == 401 and e['token'] == '$TOKEN'")" -ge 1 ]
ok $? "after the run the token no longer clones (401)"
left=$(grep -rlF -- "${TOKEN:-no token was minted}" "$TMP" /run/airlock 2>/dev/null | grep -vx "$TMP/issuers.jsonl")
is "$left" "" "the token is in no record, log or file after the run (the server's own log aside)"

# ---- refusals: one line, exit 125, nothing minted or left ----
refused() { # refused DESCRIPTION POLICY WANT-LINE
	local rc lines err
	run "$2" "$TMP/out-r" "$TMP/err-r" -- /bin/true
	rc=$?
	lines=$(grep -c . "$TMP/err-r")
	err=$(cat "$TMP/err-r")
	if [ "$rc" -eq 125 ] && [ "$lines" -eq 1 ] && [ "$err" = "$3" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   rc $rc, $lines lines: '$err'"
		echo "#   want: '$3'"
	fi
}
mints=$(logged 'e["event"] == "mint"')
url=https://11.1.0.60/app/installations/77/access_tokens
policy gh-other github-other org/a
refused "a JWT signed with another key is refused by the server, and the run with one line" gh-other \
	"airlock: refusing run: credential 'gh' from issuer 'github-other': HTTP 401 from POST $url (A JSON web token could not be decoded: signature does not verify with the app key)"
is "$(logged 'e["event"] == "jwt_refused" and "signature" in e["error"]')" 1 \
	"the server refused that JWT's signature"
policy gh-c github org/c
refused "a repository the installation does not reach refuses the run with one line" gh-c \
	"airlock: refusing run: credential 'gh' from issuer 'github': HTTP 422 from POST $url (There is at least one repository that does not exist or is not accessible to the parent installation: c)"
policy gh-bad github-bad org/a
refused "a private key file that is not a PEM key refuses the run with one line" gh-bad \
	"airlock: refusing run: credential 'gh' from issuer 'github-bad': private key file '$TMP/bad.key': the private key is not a PEM private key"
# A grant its issuer could never mint (a github_app grant needs repositories and
# permissions) refuses the run before any grant is minted, the good one beside it too; and
# `airlock policy check --host` says so beforehand.
cat >"$TMP/gh-noscope.json" <<JSON
{ "version": 1, "name": "gh-noscope", "limits": { "wall_time": "60s" },
  "credentials": [
    { "name": "gh", "source": "issuer:github", "ttl": "15m",
      "scope": { "repositories": ["org/a"], "permissions": { "contents": "read" } },
      "deliver": { "file": "/run/secrets/gh" } },
    { "name": "gh2", "source": "issuer:github", "ttl": "15m", "deliver": { "file": "/run/secrets/gh2" } } ] }
JSON
noscope="credential 'gh2' from issuer 'github': a github_app grant needs a scope: {\"repositories\": [...], \"permissions\": {...}}"
refused "a github_app grant without a scope refuses the run with one line" gh-noscope \
	"airlock: refusing run: $noscope"
is "$(logged 'e["event"] == "mint"')" "$mints" "no grant of that run was minted, not even the good one"
net_in_host "$AIRLOCK" policy check "$TMP/gh-noscope.json" --host --config "$TMP/airlock.json" \
	--workspace "$TMP/ws" >"$TMP/out-c" 2>&1
is "$? $(grep -c 'would be refused' "$TMP/out-c")" "1 1" "policy check --host refuses that policy, once"
grep -qxF "$TMP/gh-noscope.json: on this host a run would be refused: /credentials/1: $noscope" "$TMP/out-c"
rc=$?
ok $rc "its line names the grant's path, the grant, the issuer and what is wrong"
[ $rc -eq 0 ] || sed 's/^/# /' "$TMP/out-c"
echo '{"/app/": "500"}' >"$TMP/faults.json"
refused "an API answering 500 refuses the run with one line" gh-a \
	"airlock: refusing run: credential 'gh' from issuer 'github': HTTP 500 from POST $url (Internal Server Error (test fault))"
echo '{"/app/": "malformed"}' >"$TMP/faults.json"
refused "a malformed answer refuses the run with one line" gh-a \
	"airlock: refusing run: credential 'gh' from issuer 'github': the answer is not a JSON object"
rm -f "$TMP/faults.json"
is "$(logged 'e["event"] == "mint"')" "$mints" "no refused run left a token minted at the server"
is "$(logged 'e["event"] == "mint"')" "$(logged 'e["event"] == "revoke" and e["result"] == "revoked"')" \
	"every token the server minted was revoked"
run_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$TMP/record-gh-a.json")
[ -n "$run_id" ] && [ ! -e "/run/airlock/credentials/$run_id" ]
ok $? "the run's revocation state is gone from the runtime directory"
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
[ "$FAILED" -eq 0 ]
