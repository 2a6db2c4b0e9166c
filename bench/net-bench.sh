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
#      guard and set update) and directly from the host namespace to the upstream, after
#      60 ms idle and in a burst, beside the cost of one process wakeup in each case
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

# The same 30 distinct names (a fresh upstream query each) twice: 60 ms idle before each
# query (every process on the path wakes from idle, as for a lone lookup), and 1 ms apart
# (a burst, as a build's lookups come; the proxy's burst allowance covers 30).
cat >"$TMP/ws/lat.py" <<'PY'
import sys, time
sys.path.insert(0, '/workspace')
import importlib.util
spec = importlib.util.spec_from_file_location('t', sys.argv[1])
t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
server, gap, tag = sys.argv[2], float(sys.argv[3]), sys.argv[4]
lat = []
for i in range(30):
    s = time.perf_counter()
    rc, addrs, _ = t.query(f'l{i}{tag}.wild.test', 'A', server)
    lat.append((time.perf_counter() - s) * 1e3)
    time.sleep(gap)
lat.sort()
print(f'{lat[len(lat) // 2]:.2f} ms median, {lat[-2]:.2f} ms p95 ({rc})')
PY
# The floor under both: one process waking another and being woken back over a socketpair,
# after the same idle gap and back to back (the proxy path adds four such wakeups).
cat >"$TMP/wake.py" <<'PY'
import os, socket, sys, time
gap = float(sys.argv[1])
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.fork() == 0:
    while b.recv(8) != b'q':
        b.send(b'x')
    os._exit(0)
lat = []
for _ in range(40):
    s = time.perf_counter(); a.send(b'x'); a.recv(8)
    lat.append((time.perf_counter() - s) * 1e6)
    time.sleep(gap)
a.send(b'q'); os.wait()
lat.sort()
print(f'{lat[20] / 2:.0f} us per wakeup (median)')
PY
for gap in 0.06 0.001; do
	echo "# DNS, $gap s between queries"
	echo "DNS via proxy (task):  $(net_in_host "$AIRLOCK" run --policy "$TMP/net.json" \
		--workspace "$TMP/ws" --state-dir "$TMP/state" -- /usr/bin/python3 /workspace/lat.py \
		/workspace/net-task.py 8.8.8.8 "$gap" "g$gap" 2>/dev/null)"
	echo "DNS direct (host ns):  $(ip netns exec "$NET_H" python3 "$TMP/ws/lat.py" \
		"$TMP/ws/net-task.py" 11.1.0.53 "$gap" "d$gap")"
	echo "process wakeup floor:  $(net_in_host python3 "$TMP/wake.py" "$gap")"
done
if [ -x "$BUILD/bench/net-sets" ]; then
	"$BUILD/bench/net-sets" 5000
fi
