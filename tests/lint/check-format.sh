#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks every C file against .clang-format (kernel style), one TAP case per file.
set -u
cd "${1:-.}" || exit 1
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null | sort)
echo "1..${#files[@]}"
i=0; fail=0
for f in "${files[@]}"; do
	i=$((i + 1))
	if out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		echo "ok $i - $f"
	else
		echo "not ok $i - $f (run: clang-format -i $f)"
		echo "$out" | head -n 12 | sed 's/^/# /'
		fail=1
	fi
done
exit $fail
