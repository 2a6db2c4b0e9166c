#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the shell linter on every shell script in the tree, one TAP case per script.
set -u
cd "${1:-.}" || exit 1
mapfile -t files < <(git ls-files '*.sh' setup.sh .ci/run 2>/dev/null | sort -u)
echo "1..${#files[@]}"
i=0; fail=0
for f in "${files[@]}"; do
	i=$((i + 1))
	if out=$(shellcheck -S warning "$f" 2>&1); then
		echo "ok $i - $f"
	else
		echo "not ok $i - $f"; echo "$out" | sed 's/^/# /'; fail=1
	fi
done
exit $fail
