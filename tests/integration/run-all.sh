#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs the integration tests without meson (the vm stage uses it inside the guest).
#
#   run-all.sh [--airlock BIN] [--probe BIN] [--out DIR] [test-NAME.sh|test-NAME|NAME ...]
#
# With no test names, runs every tests/integration/test-*.sh. Writes each test's TAP to
# DIR/<name>.tap, prints one summary line per test and a total, and exits 1 if any test
# failed (a skipped test, exit 77, is not a failure).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=
tests=()

while [ $# -gt 0 ]; do
	case "$1" in
	--airlock) AIRLOCK=$(realpath "$2"); shift 2 ;;
	--probe) AIRLOCK_PROBE=$(realpath "$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '4,9p' "$0"; exit 0 ;;
	-*) echo "run-all.sh: unknown option '$1'" >&2; exit 2 ;;
	*) tests+=("$1"); shift ;;
	esac
done
export AIRLOCK AIRLOCK_PROBE
: "${AIRLOCK_SRC:=$(cd "$here/../.." && pwd)}"
export AIRLOCK_SRC

# The sanitizers' options of meson's `asan` test setup (the same file): a UBSan or ASan
# finding in an instrumented build fails the test here as it does in CI. A variable the
# caller set wins.
while IFS= read -r line; do
	case "$line" in
	'' | '#'*) continue ;;
	esac
	name=${line%%=*}
	[ -n "${!name+x}" ] && continue
	printf -v "$name" %s "${line#*=}"
	export "${name?}"
done <"$here/../sanitizer.env"

if [ ${#tests[@]} -eq 0 ]; then
	for t in "$here"/test-*.sh; do
		tests+=("$t")
	done
fi
out=${out:-$(mktemp -d /tmp/airlock-results.XXXXXX)}
mkdir -p "$out"

total_pass=0 total_fail=0 total_skip=0 failed_tests=()
for t in "${tests[@]}"; do
	case "$t" in
	*/*) ;;
	test-*.sh) t=$here/$t ;;
	test-*) t=$here/$t.sh ;;
	*) t=$here/test-$t.sh ;;
	esac
	name=$(basename "$t" .sh)
	start=$(date +%s)
	bash "$t" >"$out/$name.tap" 2>"$out/$name.log"
	rc=$?
	pass=$(grep -Ec '^ok ' "$out/$name.tap")
	skip=$(grep -Eci '^ok .*# *SKIP' "$out/$name.tap")
	fail=$(grep -Ec '^not ok ' "$out/$name.tap")
	pass=$((pass - skip))
	if [ "$rc" -eq 77 ]; then
		state=SKIP
		[ "$skip" -eq 0 ] && skip=1
	elif [ "$rc" -ne 0 ] || [ "$fail" -gt 0 ]; then
		state=FAIL
		failed_tests+=("$name")
		[ "$fail" -eq 0 ] && fail=1
	else
		state=PASS
	fi
	printf '%-28s %-4s %3d passed %3d failed %3d skipped  %3ds\n' "$name" "$state" \
		"$pass" "$fail" "$skip" "$(($(date +%s) - start))"
	grep -E '^not ok ' "$out/$name.tap" | sed 's/^/    /'
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
done

echo "$total_pass passed, $total_fail failed, $total_skip skipped (TAP in $out)"
[ ${#failed_tests[@]} -eq 0 ]
