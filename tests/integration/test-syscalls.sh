#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The seccomp profile: every blocked family fails with EPERM, ordinary work succeeds.
. "$(dirname "$0")/lib.sh"
al_init

# Sanity: outside the sandbox the same probe must see the calls allowed, or it proves nothing.
"$AIRLOCK_PROBE" syscalls mount bpf setns >/dev/null 2>&1
al_ok "$([ $? -ne 0 ]; echo $?)" "probe control: on the host mount/bpf/setns are not EPERM"

al_run -- "$PROBE" syscalls
al_ok "$AL_RC" "every blocked syscall family returns EPERM, allowed ones work"
echo "$AL_OUT" | grep -E '#|succeeded|allowed' | al_diag

# Ordinary work: a C compiler, python, git.
cat >"$AL_RWWS/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("hello from c\n"); return 0; }
C
pol=$(al_policy rw <<'JSON'
{ "version": 1, "name": "rw", "filesystem": { "workspace": { "mode": "rw" } } }
JSON
)
al_run --policy "$pol" --workspace "$AL_RWWS" -- /bin/sh -c \
	'gcc -O2 -o /tmp/hello hello.c && /tmp/hello'
al_is "$AL_OUT" "hello from c" "gcc compiles and runs a C program"
[ "$AL_RC" -eq 0 ] || al_show
al_run -- python3 -c 'import json, hashlib, subprocess; print(json.dumps({"h": hashlib.sha256(b"x").hexdigest()[:8], "p": subprocess.run(["true"]).returncode}))'
al_is "$AL_OUT" '{"h": "2d711642", "p": 0}' "python3 runs (json, hashlib, subprocess)"
[ "$AL_RC" -eq 0 ] || al_show
al_run --policy "$pol" --workspace "$AL_RWWS" -- /bin/sh -c \
	'git init -q repo && cd repo && echo a >a && git add a &&
	 git -c user.name=t -c user.email=t@e commit -qm one && git log --oneline | wc -l'
al_is "$AL_OUT" "1" "git init + commit in a rw workspace"
[ "$AL_RC" -eq 0 ] || al_show
al_ok "$([ -d "$AL_RWWS/repo/.git" ]; echo $?)" "the git repository is visible on the host"
al_run -- /bin/sh -c 'cd /tmp && git init -q r && cd r && echo b >b && git add b &&
	git -c user.name=t -c user.email=t@e commit -qm one && echo committed'
al_is "$AL_OUT" "committed" "git commit in /tmp"
[ "$AL_RC" -eq 0 ] || al_show
