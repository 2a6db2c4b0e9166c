#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network egress costs, in throw-away namespaces (tests/integration/net-lib.sh):
#   1. start latency of a networked run (issue 4): `airlock run -- /bin/true` with a network
#      policy, the same without one, and `bwrap --unshare-all` with a minimal filesystem (as
#      in bench/startup.sh), interleaved round-robin by bench/startup in the test "host"
#      namespace; medians, ratios, and network setup + teardown as the difference of the
#      two airlock medians
#   2. DNS answer latency the proxy adds: the same queries from the task (through the proxy,
#      guard and set update) and directly from the host namespace to the upstream
#   3. set updates per second (bench/net-sets)
# Build with -Dbench=true (bench/startup and bench/net-sets). Everything, the driver too,
# runs inside the test namespaces: never in the machine's own network namespace.
# usage: bench/net-bench.sh BUILDDIR [ROUNDS] [WARMUP]   (root). Two passes: back to back,
#        then BENCH_GAP ms (default 60) idle before each start; BENCH_RAW=PREFIX keeps the
#        samples as PREFIX.gapN (CSV).
set -euo pipefail
BUILD=${1:?usage: net-bench.sh BUILDDIR [ROUNDS] [WARMUP]}
ROUNDS=${2:-50}
WARMUP=${3:-5}
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

DRIVER=$BUILD/bench/startup
BWRAP=$(command -v bwrap || true)
if [ ! -x "$DRIVER" ]; then
	echo "net-bench.sh: $DRIVER missing; configure $BUILD with -Dbench=true" >&2
	exit 1
fi
# The task's /bin/true sees the workspace only; keep it empty of anything but our scripts.
cmds=(airlock-net "$AIRLOCK" run --policy "$TMP/net.json" --workspace "$TMP/ws"
	--state-dir "$TMP/state" -- /bin/true
	:: airlock-nonet "$AIRLOCK" run --policy "$TMP/nonet.json" --workspace "$TMP/ws"
	--state-dir "$TMP/state" -- /bin/true)
pairs=(-r airlock-net/airlock-nonet)
if [ -n "$BWRAP" ]; then
	cmds+=(:: bwrap "$BWRAP" --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin
		--symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/sbin /sbin
		--proc /proc --dev /dev --tmpfs /tmp --die-with-parent --new-session
		--cap-drop ALL /bin/true)
	pairs+=(-r airlock-net/bwrap -r airlock-nonet/bwrap)
else
	echo "# bwrap not installed: no peer row"
fi
echo "# start latency: $(uname -r), $(nproc) CPU, load $(cut -d' ' -f1-3 /proc/loadavg)"
# Pass 1 back to back; pass 2 idles BENCH_GAP ms first, so that the previous command's
# asynchronous work (a task netns is destroyed by a kernel worker after the run) does not
# land on whichever command comes next.
for gap in 0 "${BENCH_GAP:-60}"; do
	raw=()
	[ -z "${BENCH_RAW:-}" ] || raw=(-o "$BENCH_RAW.gap$gap")
	net_in_host "$DRIVER" -n "$ROUNDS" -w "$WARMUP" -g "$gap" "${raw[@]}" \
		"${pairs[@]}" -- "${cmds[@]}" | tee "$TMP/startup.out"
	awk '$1 == "airlock-net" { n = $2 } $1 == "airlock-nonet" { o = $2 }
		END { if (n && o) printf "network setup+teardown per run: %.1f ms " \
			"(difference of the medians)\n", n - o }' "$TMP/startup.out"
	echo
done

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
