#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network egress costs, in throw-away namespaces (tests/integration/net-lib.sh):
#   1. setup + teardown per run: `airlock run -- /bin/true` with and without a network section
#   2. DNS answer latency the proxy adds: the same queries from the task (through the proxy,
#      guard and set update) and directly from the host namespace to the upstream
#   3. set updates per second (bench/net-sets, if built with -Dbench=true)
# usage: bench/net-bench.sh BUILDDIR [RUNS]   (root)
set -eu
BUILD=${1:?usage: net-bench.sh BUILDDIR [RUNS]}
RUNS=${2:-20}
SRC=$(cd "$(dirname "$0")/.." && pwd)
AIRLOCK=$BUILD/airlock
NET_DIR=$SRC/tests/integration
# shellcheck source=tests/integration/net-lib.sh
. "$NET_DIR/net-lib.sh"

TMP=$(mktemp -d /tmp/airlock-netbench-XXXXXX)
trap 'net_world_down; rm -rf "$TMP"' EXIT
mkdir -p "$TMP/ws" "$TMP/state"
cp "$NET_DIR/net-task.py" "$TMP/ws/"
net_world_up "$TMP"

cat >"$TMP/net.json" <<'JSON'
{ "version": 1, "name": "bench-net", "limits": { "wall_time": "60s" },
  "network": { "egress": [ { "host": "allowed.test", "ports": [443] },
                           { "host": "*.wild.test", "ports": [443] } ],
               "dns": { "upstream": ["11.1.0.53"] } } }
JSON
echo '{ "version": 1, "name": "bench-nonet", "limits": { "wall_time": "60s" } }' >"$TMP/nonet.json"

per_run() { # per_run POLICY: mean wall ms of RUNS runs of /bin/true
	local start end
	start=$(date +%s%N)
	for _ in $(seq "$RUNS"); do
		net_in_host "$AIRLOCK" run --policy "$1" --workspace "$TMP/ws" \
			--state-dir "$TMP/state" -- /bin/true >/dev/null 2>&1
	done
	end=$(date +%s%N)
	echo $(((end - start) / RUNS / 1000000))
}
with=$(per_run "$TMP/net.json")
without=$(per_run "$TMP/nonet.json")
echo "run with network:    ${with} ms (mean of $RUNS)"
echo "run without network: ${without} ms"
echo "network setup+teardown per run: $((with - without)) ms"

cat >"$TMP/ws/lat.py" <<'PY'
import sys, time
sys.path.insert(0, '/workspace')
import importlib.util
spec = importlib.util.spec_from_file_location('t', sys.argv[1])
t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
server = sys.argv[2]
lat = []
for i in range(30):
    s = time.perf_counter()
    rc, addrs, _ = t.query(f'l{i}.wild.test', 'A', server)
    lat.append((time.perf_counter() - s) * 1e3)
    time.sleep(0.06)  # stay under the proxy's rate limit
lat.sort()
print(f'{lat[len(lat) // 2]:.2f} ms median, {lat[-2]:.2f} ms p95 ({rc})')
PY
echo "DNS via proxy (task):  $(net_in_host "$AIRLOCK" run --policy "$TMP/net.json" \
	--workspace "$TMP/ws" --state-dir "$TMP/state" -- /usr/bin/python3 /workspace/lat.py \
	/workspace/net-task.py 8.8.8.8 2>/dev/null)"
echo "DNS direct (host ns):  $(ip netns exec "$NET_H" python3 "$TMP/ws/lat.py" \
	"$TMP/ws/net-task.py" 11.1.0.53)"
if [ -x "$BUILD/bench/net-sets" ]; then
	"$BUILD/bench/net-sets" 5000
fi
