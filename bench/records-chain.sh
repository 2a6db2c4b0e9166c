#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What chaining and signing the run records cost (issue 13), and how fast verify is. Not
# part of the test suite. Run as root with two builds of the same tree, one with the chain
# (the default) and bench/ built, one without (-Drecords_chain=false, only for this):
#
#   meson setup build-rel --buildtype=debugoptimized -Dbench=true && ninja -C build-rel
#   meson setup build-nochain --buildtype=debugoptimized -Drecords_chain=false
#   ninja -C build-nochain airlock
#   bench/records-chain.sh [BUILD] [NOCHAIN_BUILD] [ROUNDS] [WARMUP] [N_VERIFY]
#
# 1. `airlock run -- /bin/true` of both, interleaved round-robin by bench/startup (two
#    passes: back to back, then with BENCH_GAP ms idle before each start); the pair
#    chain/nochain is the ratio of the medians, the difference of medians is printed too.
# 2. `airlock records verify` of N_VERIFY (default 10000) records: a few real runs, then
#    records forged after them with the node key (tests/integration/records-chain.py
#    forge), so that every one has a real signature and link. Prints records/s of 3 runs.
set -euo pipefail

build=${1:-build-rel}
nochain=${2:-build-nochain}
rounds=${3:-300}
warmup=${4:-30}
n_verify=${5:-10000}
here=$(cd "$(dirname "$0")" && pwd)
airlock=$(realpath "$build/airlock")
airlock_nochain=$(realpath "$nochain/airlock")
driver=$(realpath "$build/bench/startup")
tmp=$(mktemp -d /tmp/airlock-bench-chain.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "records-chain.sh: run as root" >&2
	exit 1
fi
mkdir -p "$tmp/workspace"
cd "$tmp/workspace" # the default /workspace is the current directory, kept empty

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) CPU," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
for gap in 0 "${BENCH_GAP:-25}"; do
	echo
	"$driver" -n "$rounds" -w "$warmup" -g "$gap" -r chain/nochain -- \
		chain "$airlock" run --state-dir "$tmp/state-chain" -- /bin/true :: \
		nochain "$airlock_nochain" run --state-dir "$tmp/state-nochain" -- /bin/true |
		tee "$tmp/pass-$gap"
	awk '$1 == "chain" { c = $2 } $1 == "nochain" { n = $2 }
	     END { if (c && n) printf "chain - nochain (medians): %+.3f ms\n", c - n }' \
		"$tmp/pass-$gap"
done
"$airlock" records --state-dir "$tmp/state-chain" verify | tail -n 1

echo
st=$tmp/state-verify
for _ in 1 2 3; do
	"$airlock" run --state-dir "$st" -- /bin/true
done
python3 "$here/../tests/integration/records-chain.py" forge "$st" "$((n_verify - 3))"
for _ in 1 2 3; do
	t0=$(date +%s%N)
	"$airlock" records --state-dir "$st" verify >"$tmp/verify.out"
	t1=$(date +%s%N)
	n=$(sed -n 's/^verified \([0-9]*\) records.*/\1/p' "$tmp/verify.out")
	awk -v n="$n" -v ns="$((t1 - t0))" \
		'BEGIN { printf "verify: %d records in %.3f s: %.0f records/s\n", n, ns / 1e9, n / (ns / 1e9) }'
done
