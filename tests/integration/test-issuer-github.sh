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
#
# The kind runs in issuer-github-cli (with tests/integration/issuer-stub.c for the issuer
# core's HTTP helper) and its token goes to the run as a caller's credential: the core that
# mints and revokes for a run (branch issuers) is not merged here yet.
set -u
SRC=${AIRLOCK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
AIRLOCK=${AIRLOCK:-$SRC/build/airlock}
BUILD=$(dirname "$AIRLOCK")
CLI=${AIRLOCK_ISSUER_GITHUB_CLI:-$BUILD/tests/integration/issuer-github-cli}
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
[ -x "$CLI" ] || { echo "Bail out! issuer-github-cli not found at '$CLI'"; exit 1; }
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

# The issuer as the node config would define it (docs/config.md), the key root-only.
issuer() { # issuer KEYFILE > json
	printf '{ "api_url": "https://11.1.0.60/", "app_id": 4242, "installation_id": "77",
  "private_key_file": "%s", "ca_file": "%s" }\n' "$1" "$TMP/ca.pem"
}
issuer "$TMP/app.key" >"$TMP/issuer.json"
issuer "$TMP/other.key" >"$TMP/issuer-other.json"
echo '{ "repositories": ["org/a"], "permissions": { "contents": "read" } }' >"$TMP/scope.json"
mint() { # mint ISSUER SCOPE: the kind's mint, in the host namespace
	net_in_host "$CLI" mint "$1" "$2" "$TMP/token" "$TMP/revocation.json"
}

echo "1..25"

# ---- mint: the JWT, the scope asked and granted ----
granted=$(mint "$TMP/issuer.json" "$TMP/scope.json" 2>"$TMP/mint.err")
ok $? "the github_app kind mints an installation token over TLS with the test CA"
sed 's/^/# /' "$TMP/mint.err"
TOKEN=$(cat "$TMP/token" 2>/dev/null)
is "$(printf %s "$granted" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["scope"], sort_keys=True))')" \
	'{"permissions": {"contents": "read", "metadata": "read"}, "repositories": ["org/a"]}' \
	"the scope recorded is the one GitHub's answer gave (full names, metadata:read added)"
is "$(logged 'e["event"] == "mint" and e["request"] == {"repositories": ["a"], "permissions": {"contents": "read"}}')" 1 \
	"the request asked for the grant's repository by name and its permissions"
is "$(logged 'e["event"] == "mint" and e["claims"]["iss"] == "4242" and 0 < e["claims"]["exp"] - e["time"] <= 600 and e["claims"]["iat"] <= e["time"] - 59')" 1 \
	"the server verified the JWT with the app's public key: iss is the app, exp within 10 minutes, iat a minute back"
printf %s "$granted" | python3 -c 'import json, sys, time
g = json.load(sys.stdin)
sys.exit(not (abs(g["issued"] - time.time()) < 30 and 3500 < g["expires"] - g["issued"] <= 3600))'
ok $? "issued is now and expires is GitHub's expires_at (an hour later)"
[ "$(stat -c %a "$TMP/token")" = 600 ] && [[ "$TOKEN" =~ ^ghs_ ]]
ok $? "the minted value is the server's token"

# ---- git over HTTPS in a task, with the token in a delivered file ----
# docs/credentials.md: the value is a file; git reads it through a credential helper that
# GIT_CONFIG_* in the policy's environment names. No value in a URL, argv or environment.
cat >"$TMP/policy.json" <<'JSON'
{ "version": 1, "name": "gh-git", "limits": { "wall_time": "60s" },
  "network": { "egress": [ { "host": "github.test", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } },
  "environment": {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "credential.https://github.test.helper",
    "GIT_CONFIG_VALUE_0": "!f() { test \"$1\" = get && printf 'username=x-access-token\\npassword=%s\\n' \"$(cat /run/secrets/gh)\"; }; f",
    "GIT_CONFIG_KEY_1": "http.sslCAInfo",
    "GIT_CONFIG_VALUE_1": "/workspace/ca.pem"
  },
  "credentials": [ { "name": "gh", "source": "caller", "deliver": { "file": "/run/secrets/gh" } } ] }
JSON
net_in_host "$AIRLOCK" run --policy "$TMP/policy.json" --workspace "$TMP/ws" \
	--state-dir "$TMP/state" --record "$TMP/record.json" --credential-fd gh=3 -- /bin/sh -c '
	git clone -q https://github.test/org/a.git /tmp/a && echo "clone-a $(cat /tmp/a/README)"
	git clone -q https://github.test/org/b.git /tmp/b 2>/tmp/b.err; echo "clone-b $?"
	grep -q "returned error: 403" /tmp/b.err && echo "clone-b 403"
	echo "remote $(git -C /tmp/a remote get-url origin)"
	env | grep -c "$(cat /run/secrets/gh)" | sed "s/^/env-matches /"
	grep -rlF "$(cat /run/secrets/gh)" /tmp/a | sed "s/^/clone-holds /"
	true' 3<"$TMP/token" >"$TMP/out" 2>"$TMP/err"
ok $? "a networked run with the token as its credential file ends well"
sed 's/^/# err: /' "$TMP/err" | head -5
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
sed 's/^/# out: /' "$TMP/out"

# ---- revocation ----
net_in_host "$CLI" revoke "$TMP/issuer.json" "$TMP/revocation.json" 2>"$TMP/revoke.err"
ok $? "the kind revokes the token"
is "$(logged "e['event'] == 'revoke' and e['kind'] == 'github' and e['result'] == 'revoked' and e['token'] == '$TOKEN'")" 1 \
	"the server saw DELETE /installation/token with that token"
net_in_host "$CLI" revoke "$TMP/issuer.json" "$TMP/revocation.json" 2>"$TMP/revoke2.err"
ok $? "revoking again is not an error (the token is already gone: 401)"
printf 'protocol=https\nhost=github.test\nusername=x-access-token\npassword=%s\n' "$TOKEN" >"$TMP/cred"
net_in_host git -c http.sslCAInfo="$TMP/ca.pem" -c credential.helper="!cat $TMP/cred #" \
	-c credential.interactive=never ls-remote https://11.1.0.60/org/a.git >/dev/null 2>&1
rc=$?
rm -f "$TMP/cred" "$TMP/token" "$TMP/revocation.json"
[ "$rc" -ne 0 ] && [ "$(logged "e['event'] == 'git_refused' and e['status'] == 401 and e['token'] == '$TOKEN'")" -ge 1 ]
ok $? "after the revocation the token no longer clones (401)"

# ---- the value is in no record, log or file ----
left=$(grep -rlF -- "${TOKEN:-no token was minted}" "$TMP" /run/airlock 2>/dev/null | grep -vx "$TMP/issuers.jsonl")
is "$left" "" "the token is in no record, log or file after the run (the server's own log aside)"
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(not (r["credentials"][0]["name"] == "gh" and r["credentials"][0]["fingerprint"].startswith("sha256:")))' \
	"$TMP/record.json"
ok $? "the record lists the grant by fingerprint"

# ---- refusals, each one line ----
refused() { # refused DESCRIPTION WANT-LINE ISSUER SCOPE
	local err lines
	mint "$3" "$4" >/dev/null 2>"$TMP/refused.err"
	local rc=$?
	err=$(cat "$TMP/refused.err")
	lines=$(grep -c . "$TMP/refused.err")
	if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && [ "$err" = "issuer-github-cli: $2" ] &&
		[ ! -s "$TMP/token" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   rc $rc, $lines lines: '$err'"
		echo "#   want: 'issuer-github-cli: $2'"
	fi
	rm -f "$TMP/token" "$TMP/revocation.json"
}
mints=$(logged 'e["event"] == "mint"')
refused "a JWT signed with another key is refused by the server, and the mint with one line" \
	"HTTP 401 from https://11.1.0.60/app/installations/77/access_tokens (A JSON web token could not be decoded: signature does not verify with the app key)" \
	"$TMP/issuer-other.json" "$TMP/scope.json"
is "$(logged 'e["event"] == "jwt_refused" and "signature" in e["error"]')" 1 \
	"the server refused that JWT's signature"
echo '{ "repositories": ["org/c"], "permissions": { "contents": "read" } }' >"$TMP/scope-c.json"
refused "a repository the installation does not reach is refused with one line" \
	"HTTP 422 from https://11.1.0.60/app/installations/77/access_tokens (There is at least one repository that does not exist or is not accessible to the parent installation: c)" \
	"$TMP/issuer.json" "$TMP/scope-c.json"
echo 'not a key' >"$TMP/bad.key" && chmod 600 "$TMP/bad.key"
issuer "$TMP/bad.key" >"$TMP/issuer-bad.json"
refused "a private key file that is not a PEM key is refused with one line" \
	"private key file '$TMP/bad.key': the private key is not a PEM private key" \
	"$TMP/issuer-bad.json" "$TMP/scope.json"
echo '{"/app/": "500"}' >"$TMP/faults.json"
refused "an API answering 500 refuses the mint with one line" \
	"HTTP 500 from https://11.1.0.60/app/installations/77/access_tokens (Internal Server Error (test fault))" \
	"$TMP/issuer.json" "$TMP/scope.json"
echo '{"/app/": "malformed"}' >"$TMP/faults.json"
refused "a malformed answer refuses the mint with one line" "the answer is not a JSON object" \
	"$TMP/issuer.json" "$TMP/scope.json"
rm -f "$TMP/faults.json"
is "$(logged 'e["event"] == "mint"')" "$mints" "no refused mint left a token behind at the server"

[ "$FAILED" -eq 0 ]
