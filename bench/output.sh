#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Output throughput (issue 10): a task writing 1 GiB of realistic build and test output to
# stdout, read by a consumer through a pipe, through airlock (every byte redacted and
# neutralised) against the same task through bwrap (no filter: the task writes to the
# pipe itself). Cases interleaved round-robin in one run; best and median wall time of
# ROUNDS each, MB/s, and the ratio to bwrap. Not part of the test suite. Run as root from
# a release build:
#
#   meson setup build-bench --buildtype=release -Dbench=true && ninja -C build-bench
#   bench/output.sh [BUILDDIR] [ROUNDS] [MIB]
#
# Cases:
#   bwrap           bwrap --unshare-all, minimal filesystem (as bench/startup.sh)
#   bwrap-1m        the same, its pipe to the consumer grown to 1 MiB first (bench/pipe-grow),
#                   as airlock grows its caller's: bwrap at its best. Where a switch
#                   between writer and reader is dear, the 64 KiB pipe alone halves bwrap
#   airlock         default policy (limits.output raised, as in every airlock case):
#                   built-in token patterns, neutralised, 16M logs
#   airlock-32      32 credential slots (the policy's most), each value registered in
#                   every form, plus the built-in patterns
#   airlock-32-raw  the same with logs.terminal "raw" (the caller's stream not neutralised)
#   airlock-1g-log  default policy with logs.max_size "1G": every byte logged and hashed
#   relay           the floor: bwrap's task, its output copied through bench/relay (read
#                   and written as airlock does, nothing looked at) to the consumer. What
#                   any supervisor that takes the output through a process of its own
#                   costs on this machine before it filters a byte.
# BENCH_BASE=PATH adds "base" and "base-32", another airlock binary (main, or a build from
# before a change) with the default policy and with the 32 credentials, to compare the two
# builds in the same run.
# BENCH_CASES="airlock-32 ..." runs only those cases (bwrap and bwrap-1m are always run:
# the ratios are to them). "ratio" is to bwrap as a user runs it, "ratio_1m" to bwrap-1m.
set -euo pipefail

build=${1:-build-bench}
rounds=${2:-3}
mib=${3:-1024}
airlock=$(realpath "$build/airlock")
relay=$(realpath "$build/bench/relay")
grow=$(realpath "$build/bench/pipe-grow")
tmp=$(mktemp -d /tmp/airlock-outbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "output.sh: run as root" >&2
	exit 1
fi
command -v bwrap >/dev/null || { echo "output.sh: bwrap is not installed" >&2; exit 1; }

# 16 MiB of build and test output (compiler lines, test results, timestamps, some colour),
# written MIB/16 times by the task.
mkdir -p "$tmp/ws" "$tmp/state" "$tmp/secrets"
chmod 755 "$tmp" "$tmp/ws"
python3 - "$tmp/ws/chunk" <<'PY'
import random, sys
rng = random.Random(1)
words = ('build src lib test module config value result error warning note info debug '
         'compile link object file path main init parse load store request response').split()
out, size = [], 0
while size < 16 << 20:
    k = rng.randrange(6)
    w = ' '.join(rng.choice(words) for _ in range(rng.randrange(3, 12)))
    if k == 0:
        s = 'cc -O2 -Wall -c src/%s.c -o build/%s.o\n' % (rng.choice(words), rng.choice(words))
    elif k == 1:
        s = 'tests/test_%s.py::test_%s \x1b[32mPASSED\x1b[0m [%3d%%]\n' % (
            rng.choice(words), rng.choice(words), rng.randrange(100))
    elif k == 2:
        s = '2026-01-0%dT12:%02d:%02d.%03dZ INFO %s\n' % (
            rng.randrange(1, 9), rng.randrange(60), rng.randrange(60), rng.randrange(1000), w)
    elif k == 3:
        s = 'src/%s.c:%d:%d: warning: %s [-Wunused]\n' % (
            rng.choice(words), rng.randrange(1, 999), rng.randrange(1, 80), w)
    elif k == 4:
        s = 'commit %040x %s\n' % (rng.getrandbits(160), w)
    else:
        s = '  %s\n' % w
    out.append(s)
    size += len(s)
open(sys.argv[1], 'w').write(''.join(out)[:16 << 20])
PY
chmod 644 "$tmp/ws/chunk"
reps=$((mib / 16))
task=(/bin/sh -c "i=0; while [ \$i -lt $reps ]; do cat /workspace/chunk; i=\$((i + 1)); done")

# 32 slots, random 32-character values, file delivery.
creds=() slots=
for i in $(seq 0 31); do
	head -c 24 /dev/urandom | base64 | tr -d '\n' >"$tmp/secrets/v$i"
	creds+=(--credential "s$i=@$tmp/secrets/v$i")
	slots+="${slots:+,}{ \"name\": \"s$i\", \"source\": \"caller\", \"deliver\": { \"file\": \"/run/secrets/s$i\" } }"
done
# limits.output (16M by default) is raised in each: the output is the point here.
lim='"limits": { "output": "4G" }'
printf '{ "version": 1, %s }\n' "$lim" >"$tmp/p0.json"
printf '{ "version": 1, %s, "credentials": [ %s ] }\n' "$lim" "$slots" >"$tmp/p32.json"
printf '{ "version": 1, %s, "credentials": [ %s ], "logs": { "terminal": "raw" } }\n' \
	"$lim" "$slots" >"$tmp/p32raw.json"
printf '{ "version": 1, %s, "logs": { "max_size": "1G" } }\n' "$lim" >"$tmp/p1g.json"

bw=(bwrap --unshare-all --ro-bind /usr /usr --symlink usr/bin /bin
	--symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/sbin /sbin
	--proc /proc --dev /dev --tmpfs /tmp --ro-bind "$tmp/ws" /workspace
	--die-with-parent --new-session --cap-drop ALL)
run_airlock() { # BINARY [OPTIONS]
	local bin=$1
	shift
	"$bin" run --state-dir "$tmp/state" --workspace "$tmp/ws" "$@" -- "${task[@]}"
}
run_case() {
	case $1 in
	bwrap) "${bw[@]}" "${task[@]}" ;;
	bwrap-1m) "$grow" "${bw[@]}" "${task[@]}" ;;
	airlock) run_airlock "$airlock" --policy "$tmp/p0.json" ;;
	airlock-32) run_airlock "$airlock" --policy "$tmp/p32.json" "${creds[@]}" ;;
	airlock-32-raw) run_airlock "$airlock" --policy "$tmp/p32raw.json" "${creds[@]}" ;;
	airlock-1g-log) run_airlock "$airlock" --policy "$tmp/p1g.json" ;;
	relay) run_case bwrap | "$relay" ;;
	base) run_airlock "$BENCH_BASE" --policy "$tmp/p0.json" ;;
	base-32) run_airlock "$BENCH_BASE" --policy "$tmp/p32.json" "${creds[@]}" ;;
	esac
}

cases=(bwrap bwrap-1m relay airlock airlock-32 airlock-32-raw airlock-1g-log)
[ -n "${BENCH_BASE:-}" ] && cases+=(base base-32)
if [ -n "${BENCH_CASES:-}" ]; then
	cases=(bwrap bwrap-1m)
	for c in $BENCH_CASES; do
		case $c in
		bwrap | bwrap-1m) ;;
		relay | airlock | airlock-32 | airlock-32-raw | airlock-1g-log) cases+=("$c") ;;
		base | base-32)
			[ -n "${BENCH_BASE:-}" ] || {
				echo "output.sh: case $c needs BENCH_BASE (another airlock binary)" >&2
				exit 1
			}
			cases+=("$c") ;;
		*) echo "output.sh: unknown case '$c' in BENCH_CASES" >&2; exit 1 ;;
		esac
	done
fi
# Each case as a script of its own (the consumer included), so that perf can time it.
for c in "${cases[@]}"; do
	{
		echo '#!/bin/bash'
		declare -p tmp task bw creds airlock relay grow
		[ -n "${BENCH_BASE:-}" ] && declare -p BENCH_BASE
		declare -f run_airlock run_case
		printf 'run_case %q 2>/dev/null | cat >/dev/null\n' "$c"
	} >"$tmp/case.$c"
	chmod 700 "$tmp/case.$c"
done
# Each sample: wall seconds, and CPU seconds of everything the case ran (the task, the
# consumer, airlock or bwrap): CPU minus bwrap's is what airlock adds, which a loaded
# machine distorts far less than the wall time. The CPU is perf's task-clock, inherited by
# every descendant: the shell's own count (user + sys of reaped children) misses the task
# that bwrap's init of a pid namespace reaps and never hands on. Without perf, that count
# is used, and says so.
if command -v perf >/dev/null && perf stat -e task-clock -x, -o /dev/null true 2>/dev/null; then
	cpu_by=perf
else
	cpu_by="shell (user+sys of reaped children; bwrap's task is missed)"
fi
TIMEFORMAT='%R %U %S'
for c in "${cases[@]}"; do : >"$tmp/t.$c"; done
for ((r = 0; r < rounds; r++)); do
	for c in "${cases[@]}"; do
		if [ "$cpu_by" = perf ]; then
			{ time perf stat -e task-clock -x, -o "$tmp/perf" "$tmp/case.$c"; } 2>"$tmp/time"
			read -r wall _ <"$tmp/time"
			cpu=$(awk -F, '$3 ~ /^task-clock/ { print $1 / 1000 }' "$tmp/perf")
			echo "$wall $cpu 0" >>"$tmp/t.$c"
		else
			{ time "$tmp/case.$c"; } 2>>"$tmp/t.$c"
		fi
		rm -f "$tmp/state/logs/"* # the 1G logs would fill the disk over many rounds
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "# $mib MiB of build output through a pipe, $rounds rounds, interleaved"
echo "# wall: best and median; cpu: median, by $cpu_by; extra: cpu over bwrap's, per byte"
echo "# ratio: bwrap's best wall time over the case's; ratio_1m: bwrap-1m's over the case's"
[[ " ${cases[*]} " == *" relay "* ]] &&
	echo "# relay: the output through a process that only copies it, the floor of a filter"
printf '%-16s %8s %8s %8s %7s %8s %8s %9s\n' case best_s med_s MB/s ratio ratio_1m cpu_s \
	extra_ns/B
bw_best=$(awk '{ print $1 }' "$tmp/t.bwrap" | sort -n | head -1)
bw1m_best=$(awk '{ print $1 }' "$tmp/t.bwrap-1m" | sort -n | head -1)
bw_cpu=$(awk '{ print $2 + $3 }' "$tmp/t.bwrap" | median)
for c in "${cases[@]}"; do
	best=$(awk '{ print $1 }' "$tmp/t.$c" | sort -n | head -1)
	med=$(awk '{ print $1 }' "$tmp/t.$c" | median)
	cpu=$(awk '{ print $2 + $3 }' "$tmp/t.$c" | median)
	printf '%-16s %8.2f %8.2f %8.0f %7.3f %8.3f %8.2f %9.2f\n' "$c" "$best" "$med" \
		"$(echo "$mib * 1.048576 / $best" | bc -l)" "$(echo "$bw_best / $best" | bc -l)" \
		"$(echo "$bw1m_best / $best" | bc -l)" "$cpu" "$(echo "($cpu - $bw_cpu) * 1000000000 / ($mib * 1048576)" | bc -l)"
done
