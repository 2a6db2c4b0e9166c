#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The boundary between airlock and its network module (supervisor/run-net-module.h), read
# from the built files: airlock does not link the network libraries; the module exports
# run_net_module only; every reference of the module resolves in airlock or in a library
# the module loads (dlopen with RTLD_NOW would refuse it otherwise); and no name airlock
# exports is also defined by one of those libraries, which would then call airlock's.
#
#   check-net-module.sh AIRLOCK MODULE
set -u
exe=$1 mod=$2
n=0 fail=0
ok() { # ok STATUS DESCRIPTION [DETAILS]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		echo "${3:-}" | sed 's/^/# /'
		fail=1
	fi
}
# The shared libraries a file loads, by path.
libs() { ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'; }
# The dynamic symbols files define, without version.
defined() { nm -D --defined-only "$@" | awk 'NF == 3 { sub(/@.*/, "", $3); print $3 }' | sort -u; }

echo "1..4"
linked=$(readelf -d "$exe" | grep -oE 'lib(nftnl|mnl|nl-3|nl-route-3)\.so[.0-9]*')
ok "$([ -z "$linked" ]; echo $?)" "airlock does not link libnftnl, libmnl, libnl-3, libnl-route-3" "$linked"

exported=$(defined "$mod")
ok "$([ "$exported" = run_net_module ]; echo $?)" "the module exports run_net_module only" "$exported"

mapfile -t mod_libs < <(libs "$mod")
mapfile -t exe_libs < <(libs "$exe")
missing=$(comm -23 \
	<(nm -D --undefined-only "$mod" | awk '$1 == "U" { sub(/@.*/, "", $2); print $2 }' | sort -u) \
	<({ defined "$exe"; defined "${mod_libs[@]}"; } | sort -u))
ok "$([ -z "$missing" ]; echo $?)" "every reference of the module resolves in airlock or its libraries" \
	"$missing"

# airlock's own names: lowercase (the toolchain's start with '_') and without a version
# (those are copies of a library's data, e.g. stdout@GLIBC_2.2.5, meant to be shared).
clash=$(comm -12 <(nm -D --defined-only "$exe" | awk 'NF == 3 && $3 ~ /^[a-z][^@]*$/ { print $3 }' | sort -u) \
	<(defined "${mod_libs[@]}" "${exe_libs[@]}" | sort -u))
ok "$([ -z "$clash" ]; echo $?)" "no name airlock exports is defined by a library" "$clash"
exit $fail
