#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the module include boundaries of STYLE.md: each library's headers appear only
# in the module that owns it, and modules include only what sits below them.
set -u
src=${1:-.}
cd "$src" || exit 1
n=0; fail=0
check() { # description, pattern, dirs-allowed-to-match regex (bench/ and tests/ always are)
	n=$((n + 1))
	local bad
	bad=$(git ls-files '*.c' '*.h' 2>/dev/null | grep -vE "^($3|tests|bench)/" | xargs -r grep -lE "$2" 2>/dev/null)
	if [ -n "$bad" ]; then
		echo "not ok $n - $1: $(echo "$bad" | tr '\n' ' ')"
		fail=1
	else
		echo "ok $n - $1"
	fi
}
echo "1..10"
check "jansson only in policy/ and supervisor/" '#include <jansson.h>' 'policy|supervisor|tests'
check "libseccomp only in sandbox/" '#include <seccomp.h>' 'sandbox|tests'
check "libcap-ng only in sandbox/" '#include <cap-ng.h>' 'sandbox|tests'
check "libnftnl/libmnl only in netfilter/" '#include <lib(nftnl|mnl)/' 'netfilter|tests'
check "libnl only in netfilter/ and sandbox/" '#include <netlink/' 'netfilter|sandbox|tests'
check "libcurl only in supervisor/" '#include <curl/' 'supervisor|tests'
check "PCRE2 only in supervisor/output/ (redact-pcre.c)" '#include <pcre2' 'supervisor/output|tests'
check "nothing includes supervisor/ headers outside supervisor/" '#include "(run|record|probe|cmd-[a-z]+|idpool|credentials|secure-mem)\.h"' 'supervisor|tests'
check "common/ includes no other module" '#include "(policy|sandbox|syscall-filter|caps|landlock|egress|cgroup|run|record)' 'policy|sandbox|netfilter|supervisor'
check "policy/ includes no sandbox/netfilter/supervisor header" '#include "(sandbox|syscall-filter|caps|landlock|cgroup|egress|run|record|loop)' 'sandbox|netfilter|supervisor|common'
exit $fail
