#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Time minting adds to a run (issue 11), against the local test issuer
# (tests/integration/issuer-oauth-server.py, real TLS with a CA made here), in a network
# namespace of its own. Not part of the test suite. Run as root:
#
#   bench/issuers.sh [BUILDDIR] [ROUNDS] [BASE_AIRLOCK]
#
# For each issuer kind (oauth2_client_credentials, http_json), ROUNDS (default 50) runs of
# `airlock --debug run -- /bin/true` with one grant, reading airlock's own debug lines:
#   ready    credentials_mint() in all: module load, issuer parse, the request, the state file
#   request  the HTTP request alone, as libcurl's caller times it (TLS, the server, the wire)
#   local    ready - request: airlock's own part
# and the start-to-exit time of the whole run (mint and revocation included), against the
# same run without grants. With BASE_AIRLOCK (an airlock built without issuers), runs
# without grants of both are interleaved: the start latency of a run without credentials
# before and after. Prints median and p95 of each, in milliseconds.
set -euo pipefail

build=${1:-build}
rounds=${2:-50}
base=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
airlock=$(realpath "$build/airlock")
tmp=$(mktemp -d /tmp/airlock-bench-issuers.XXXXXX)
ns=al-bench-iss-$$
chmod 755 "$tmp"
cleanup() {
	[ -n "${fd:-}" ] && exec {fd}>&-
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench CA" -keyout "$tmp/ca.key" \
	-out "$tmp/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tmp/srv.key" \
	-out "$tmp/srv.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
	-days 1 -extfile "$tmp/ext" -out "$tmp/srv.pem" 2>/dev/null
ip netns add "$ns"
ip -n "$ns" link set lo up
mkfifo "$tmp/in"
ip netns exec "$ns" python3 "$src/tests/integration/issuer-oauth-server.py" 127.0.0.1 8443 8080 \
	"$tmp/srv.pem" "$tmp/srv.key" "$tmp/log" <"$tmp/in" >"$tmp/out" 2>&1 &
srv=$!
exec {fd}>"$tmp/in"
for _ in $(seq 50); do grep -q ready "$tmp/out" && break; sleep 0.1; done

printf 's3cret' >"$tmp/secret"
printf 'root-vault' >"$tmp/vault"
chmod 600 "$tmp/secret" "$tmp/vault"
cat >"$tmp/conf.json" <<JSON
{ "version": 1, "credentials": { "issuers": {
  "idp": { "kind": "oauth2_client_credentials", "token_url": "https://127.0.0.1:8443/token",
           "revocation_url": "https://127.0.0.1:8443/revoke", "client_id": "airlock",
           "client_secret_file": "$tmp/secret", "ca_file": "$tmp/ca.pem" },
  "vault": { "kind": "http_json", "url": "https://127.0.0.1:8443/v1/token", "ca_file": "$tmp/ca.pem",
             "headers": { "X-Vault-Token": { "file": "$tmp/vault" } },
             "body": { "policies": "{{scope}}", "ttl": "{{ttl}}s" },
             "value_pointer": "/auth/client_token", "lease_pointer": "/auth/accessor",
             "revoke": { "url": "https://127.0.0.1:8443/v1/revoke",
                         "body": { "accessor": "{{lease_id}}" } } } } } }
JSON
chmod 644 "$tmp/conf.json"
for kind in idp vault; do
	cat >"$tmp/$kind.json" <<JSON
{ "version": 1, "name": "bench", "credentials": [ { "name": "t", "source": "issuer:$kind",
  "ttl": "5m", "scope": ["read"], "deliver": { "file": "/run/secrets/t" } } ] }
JSON
done
echo '{ "version": 1, "name": "plain" }' >"$tmp/plain.json"
mkdir -p "$tmp/ws" "$tmp/state"

# one BIN POLICY: a run's start-to-exit ms on stdout, its debug lines in $tmp/err
one() {
	local t0 t1
	t0=$(date +%s%N)
	ip netns exec "$ns" "$1" --debug run --config "$tmp/conf.json" --policy "$tmp/$2.json" \
		--workspace "$tmp/ws" --state-dir "$tmp/state" -- /bin/true >/dev/null 2>"$tmp/err"
	t1=$(date +%s%N)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc
}
# stats: median and p95 of the numbers on stdin
stats() {
	sort -n | awk '{ v[NR] = $1 } END { printf "median %.3f  p95 %.3f  (n=%d)\n",
		v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.999)], NR }'
}

for kind in idp vault; do
	rm -f "$tmp/ready" "$tmp/request" "$tmp/local" "$tmp/run-$kind" "$tmp/run-plain"
	for _ in $(seq "$rounds"); do
		one "$airlock" "$kind" >>"$tmp/run-$kind"
		ready=$(sed -n 's/.*grants ready in \([0-9]*\) us.*/\1/p' "$tmp/err")
		req=$(sed -n 's/.*the slowest request \([0-9]*\) us.*/\1/p' "$tmp/err")
		echo "scale=3; $ready / 1000" | bc >>"$tmp/ready"
		echo "scale=3; $req / 1000" | bc >>"$tmp/request"
		echo "scale=3; ($ready - $req) / 1000" | bc >>"$tmp/local"
		one "$airlock" plain >>"$tmp/run-plain"
	done
	echo "== $kind ($(jq -r ".credentials.issuers.$kind.kind" "$tmp/conf.json"))"
	printf '  mint, in all (ms)        '; stats <"$tmp/ready"
	printf '  the request (ms)         '; stats <"$tmp/request"
	printf '  airlock'"'"'s own part (ms) '; stats <"$tmp/local"
	printf '  run with the grant (ms)  '; stats <"$tmp/run-$kind"
	printf '  run without (ms)         '; stats <"$tmp/run-plain"
done
if [ -n "$base" ]; then
	rm -f "$tmp/a" "$tmp/b"
	for _ in $(seq "$rounds"); do
		one "$base" plain >>"$tmp/a"
		one "$airlock" plain >>"$tmp/b"
	done
	echo "== a run without credentials, interleaved"
	printf '  before (ms)  '; stats <"$tmp/a"
	printf '  after (ms)   '; stats <"$tmp/b"
fi
