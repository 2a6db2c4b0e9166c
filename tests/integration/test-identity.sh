#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Identity and privileges: uid/gid maps to an unprivileged host range, distinct per
# concurrent run; no capabilities, no_new_privs, seccomp filter mode.
. "$(dirname "$0")/lib.sh"
al_init

# Prints "outer_base count" of the "0 ..." line (or the first line) of a map dump.
map_range() { # map_range uid_map|gid_map FILE
	awk -v k="$1:" '$1 == k { print $3, $4; exit }' "$2"
}

al_run -- "$PROBE" ids 1000 1000
al_ok "$AL_RC" "task runs as uid 1000 gid 1000 with no supplementary groups"
echo "$AL_OUT" >"$AL_TMP/ids1"
read -r base count < <(map_range uid_map "$AL_TMP/ids1")
al_ok "$([ -n "${base:-}" ] && [ "$base" -ge 65536 ]; echo $?)" \
	"host uid range starts above the system/user ids (base ${base:-?})"
al_ok "$([ "${count:-0}" -ge 1001 ]; echo $?)" "uid map covers id 1000 (count ${count:-?})"
read -r gbase _ < <(map_range gid_map "$AL_TMP/ids1")
al_ok "$([ -n "${gbase:-}" ] && [ "$gbase" -ge 65536 ]; echo $?)" \
	"host gid range is unprivileged (base ${gbase:-?})"
grep '^setgroups:' "$AL_TMP/ids1" | al_diag
[ "$AL_RC" -eq 0 ] || al_show

# Two concurrent runs get disjoint ranges; the host sees the task as base+1000.
al_run_bg one -- /bin/sh -c "$PROBE ids; $PROBE ns; exec $PROBE sleep 3"
one=$AL_BG_PID
al_run_bg two -- /bin/sh -c "$PROBE ids; $PROBE ns; exec $PROBE sleep 3"
two=$AL_BG_PID
al_wait_for "$AL_TMP/bg-one.out" '^ns cgroup' 10
al_wait_for "$AL_TMP/bg-two.out" '^ns cgroup' 10
read -r b1 c1 < <(map_range uid_map "$AL_TMP/bg-one.out")
read -r b2 c2 < <(map_range uid_map "$AL_TMP/bg-two.out")
overlap=1
if [ -n "${b1:-}" ] && [ -n "${b2:-}" ]; then
	{ [ $((b1 + c1)) -le "$b2" ] || [ $((b2 + c2)) -le "$b1" ]; } && overlap=0
fi
al_ok "$overlap" "two concurrent runs have disjoint host uid ranges (${b1:-?}+${c1:-?}, ${b2:-?}+${c2:-?})"
pidns=$(al_ns_from_probe <"$AL_TMP/bg-one.out" | grep '^pid:')
hostuid=
for p in $(al_pids_in_ns "$pidns"); do
	u=$(awk '/^Uid:/ {print $2}' "/proc/$p/status" 2>/dev/null)
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = airlock-probe ] && hostuid=$u
done
al_is "${hostuid:-none}" "$((${b1:-0} + 1000))" "the host sees the task as uid base+1000"
wait "$one" "$two"

al_check "all capabilities zero, NoNewPrivs 1, Seccomp 2" -- "$PROBE" caps
al_run -- /bin/sh -c "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/1/status"
al_ok "$(echo "$AL_OUT" | grep -E '^Cap(Eff|Prm|Bnd|Amb):' | grep -vc '0000000000000000' | grep -qx 0; echo $?)" \
	"the sandbox init holds no capabilities either"
[ "$AL_RC" -eq 0 ] || al_show
