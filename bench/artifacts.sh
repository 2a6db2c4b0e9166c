#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The checked export (docs/artifacts.md) against `cp -a` followed by `sha256sum` of the same
# tree (issue 12): 1 GiB in 10 000 files, and one 1 GiB file. Not part of the test suite.
# Run as root from a release build configured with -Dbench=true:
#
#   meson setup build-bench --buildtype=release -Dbench=true && ninja -C build-bench
#   bench/artifacts.sh [BUILDDIR] [ROUNDS] [text|random]
#
# Everything happens on a tmpfs mounted in a private mount namespace of this script
# (unshare -m), so the disk is out of the picture and nothing stays mounted. Rounds
# (default 3) interleave the commands; each row is the median. The files hold synthetic
# text (log and source lines: what artifacts mostly are; default) or random bytes (the
# redactor's worst case, docs/performance.md). Rows:
#   cp+sha256sum   cp -a SRC DST, then sha256sum of every file of DST (the two passes)
#   export         bench/export SRC DST scan: read once, redactor (scan "redact"), SHA-256, write
#   export-noscan  the same without the redactor: where the scan's time goes
#   cp             cp -a alone;   sha256sum   sha256sum of SRC alone
# ratio = (cp+sha256sum) / export: above 1.0 the one pass beats the two.
set -euo pipefail
if [ "${1:-}" != --inside ]; then
	[ "$(id -u)" -eq 0 ] || { echo "bench/artifacts.sh: needs root (a private tmpfs)" >&2; exit 1; }
	exec unshare -m --propagation private -- "$0" --inside "$@"
fi
shift
build=${1:-build-bench}
rounds=${2:-3}
data=${3:-text}
bin=$build/bench/export
[ -x "$bin" ] || { echo "bench/artifacts.sh: $bin missing (-Dbench=true)" >&2; exit 1; }
dir=$(mktemp -d /tmp/airlock-bench-artifacts.XXXXXX)
trap 'umount "$dir" 2>/dev/null; rmdir "$dir"' EXIT
mount -t tmpfs -o size=6G tmpfs "$dir"

mktree() { # mktree many|one SRC
	mkdir "$2"
	python3 - "$1" "$2" "$data" <<'PY'
import os, random, sys
shape, root, data = sys.argv[1:]
random.seed(12)
if data == "random":
    block = os.urandom(1 << 20) * 2
else:
    words = ("error warning note make[2]: Entering directory src/core/buffer.c:123:45 "
             "PASSED FAILED test_parse_config assert ok 1 - 2026-12-06T01:40:00Z INFO "
             "request_id=7f3a9c GET /api/v1/items 200 12ms int main(void) { return 0; } "
             "def handler(event): import os pip install requests==2.31.0").split()
    text = []
    size = 0
    while size < 2 << 20:
        line = " ".join(random.choice(words) for _ in range(random.randint(3, 14))) + "\n"
        text.append(line)
        size += len(line)
    block = "".join(text).encode()
if shape == "one":
    with open(root + "/big", "wb") as o:
        for i in range(1024):
            k = i * 4099 % (1 << 20)
            o.write(block[k:k + (1 << 20)])
    sys.exit(0)
n = (1 << 30) // 10000
for d in range(100):
    os.mkdir("%s/d%02d" % (root, d))
    for f in range(100):
        with open("%s/d%02d/f%03d" % (root, d, f), "wb") as o:
            k = (d * 100 + f) * 4099 % (1 << 20)
            o.write(block[k:k + n])
PY
}

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for shape in many one; do
	src=$dir/src-$shape
	mktree "$shape" "$src"
	rm -f "$dir"/t.*
	for ((i = 0; i < rounds; i++)); do
		sync
		t0=$(now); cp -a "$src" "$dir/cp"; t1=$(now)
		find "$dir/cp" -type f -print0 | xargs -0 sha256sum >/dev/null; t2=$(now)
		echo "$t1 - $t0" | bc >>"$dir/t.cp"
		echo "$t2 - $t0" | bc >>"$dir/t.cpsha"
		rm -rf "$dir/cp"
		t0=$(now); find "$src" -type f -print0 | xargs -0 sha256sum >/dev/null; t1=$(now)
		echo "$t1 - $t0" | bc >>"$dir/t.sha"
		"$bin" "$src" "$dir/ex" scan | tee -a "$dir/log" | cut -d' ' -f1 >>"$dir/t.export"
		rm -rf "$dir/ex"
		"$bin" "$src" "$dir/ex" noscan | cut -d' ' -f1 >>"$dir/t.noscan"
		rm -rf "$dir/ex"
	done
	cpsha=$(median <"$dir/t.cpsha") export=$(median <"$dir/t.export")
	printf '%-5s cp+sha256sum %6.3fs  export %6.3fs  export-noscan %6.3fs  cp %6.3fs  sha256sum %6.3fs  ratio %.2f\n' \
		"$shape" "$cpsha" "$export" "$(median <"$dir/t.noscan")" "$(median <"$dir/t.cp")" \
		"$(median <"$dir/t.sha")" "$(echo "$cpsha / $export" | bc -l)"
	rm -rf "$src"
done
echo "# $data data; export: $(tail -n 1 "$dir/log" | cut -d' ' -f2-)"
