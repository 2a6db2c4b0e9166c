#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The task sees its own cgroup (issue 8): read-only at /sys/fs/cgroup, laid out as the
# host's cgroup version shows it, with the policy's limits in it and nothing above it;
# a runtime that sizes itself from its cgroup gets the policy's limits; the policy key
# filesystem.cgroup=false leaves /sys out.
. "$(dirname "$0")/lib.sh"
al_init

# The host's layout, from outside the sandbox: pure v2 at /sys/fs/cgroup, or v1 memory.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	layout=v2
	mem_file=memory.max pids_file=pids.max
	cpu_files=(cpu.max)
	want_cpu="50000 100000"
elif [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	layout=v1
	mem_file=memory/memory.limit_in_bytes pids_file=pids/pids.max
	cpu_files=(cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us)
	want_cpu="50000 100000"
else
	al_skip_all "no cgroup v2 mount and no v1 memory hierarchy at /sys/fs/cgroup"
fi
echo "# host cgroup layout: $layout" >&2

# 192M = 201326592 bytes; 0.5 cores = 50 ms per 100 ms.
pol=$(al_policy view <<'JSON'
{ "version": 1, "limits": { "memory": "192M", "pids": 77, "cpu": 0.5, "wall_time": "60s" } }
JSON
)
pol_off=$(al_policy view-off <<'JSON'
{ "version": 1, "limits": { "memory": "192M", "pids": 77, "cpu": 0.5, "wall_time": "60s" },
  "filesystem": { "cgroup": false } }
JSON
)
V=/sys/fs/cgroup

al_run --policy "$pol" -- /bin/sh -c "cd $V && cat $mem_file $pids_file ${cpu_files[*]}"
al_is "$(echo "$AL_OUT" | tr '\n' ' ')" "201326592 77 $want_cpu " \
	"$layout: $mem_file, $pids_file and ${cpu_files[*]} show the policy's limits"
[ "$AL_RC" -eq 0 ] || al_show

# Read-only: the mount says so and every write fails (EROFS; EACCES for the task's uid).
files=("$V/$mem_file" "$V/$pids_file")
for f in "${cpu_files[@]}"; do files+=("$V/$f"); done
al_check "$layout: the limit files and their directories are read-only" -- "$PROBE" ro \
	"${files[@]}" "$(dirname "$V/$mem_file")" "$(dirname "$V/$pids_file")"
al_run --policy "$pol" -- /bin/sh -c "for f in ${files[*]}; do [ -f \$f ] || echo \"no \$f\"
	(echo 1 >\"\$f\") 2>/dev/null && echo \"wrote \$f\"; done; mkdir $(dirname "$V/$mem_file")/sub 2>/dev/null && echo made
	echo end"
al_is "$AL_OUT" "end" "$layout: writing a limit or creating a child cgroup fails"

# v1: the hierarchies the run uses appear under the host's own names, links as links.
if [ "$layout" = v1 ]; then
	want=
	for n in memory pids cpu cpuacct; do
		if [ -L "/sys/fs/cgroup/$n" ]; then
			want+="$n->$(readlink "/sys/fs/cgroup/$n") "
		else
			want+="$n "
		fi
	done
	al_run --policy "$pol" -- /bin/sh -c 'for n in memory pids cpu cpuacct; do
		if [ -L /sys/fs/cgroup/$n ]; then printf "%s->%s " $n "$(readlink /sys/fs/cgroup/$n)"
		elif [ -d /sys/fs/cgroup/$n ]; then printf "%s " $n; fi; done'
	al_is "$AL_OUT" "$want" "v1: memory, pids, cpu and cpuacct are laid out as on the host"

	# cpuset, which holds no limit but which the JDK requires on v1 (it reads cpuset.cpus):
	# the run's directory, read-only, with the cpus of the host's root cpuset.
	if al_host_has_controller cpuset && [ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
		host_cpus=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)
		al_run --policy "$pol" -- /bin/sh -c 'cat /sys/fs/cgroup/cpuset/cpuset.cpus'
		al_is "$AL_OUT" "$host_cpus" "v1: cpuset/cpuset.cpus shows the host's cpus ($host_cpus)"
		[ "$AL_RC" -eq 0 ] || al_show
		al_check "v1: cpuset/cpuset.cpus and its directory are read-only" --policy "$pol" \
			-- "$PROBE" ro "$V/cpuset/cpuset.cpus" "$V/cpuset"
	else
		al_skip "v1: cpuset/cpuset.cpus is visible and read-only" \
			"the host has no v1 cpuset hierarchy at /sys/fs/cgroup/cpuset"
	fi
fi

# Nothing above the run's cgroup: no directory below the view's roots (a run cgroup has
# no children), no release_agent (only a hierarchy's root has one), /sys holds nothing
# else, and cgroup.procs lists only the sandbox's own processes.
al_run --policy "$pol" -- /bin/sh -c "ls -A /sys; ls -A /sys/fs; find $V -mindepth 1 -type d |
	grep -Ev '^$V/[^/]+\$' | sed 's/^/deep: /'; [ $layout = v2 ] && find $V -mindepth 1 -type d |
	sed 's/^/dir: /'; find $V -name release_agent | sed 's/^/agent: /'; echo end"
al_is "$(echo "$AL_OUT" | tr '\n' ' ')" "fs cgroup end " \
	"$layout: /sys holds only fs/cgroup, no child or ancestor cgroup, no release_agent"
[ "$AL_RC" -eq 0 ] || al_show
procs=$V/cgroup.procs
[ "$layout" = v1 ] && procs=$V/pids/cgroup.procs
# (Shell builtins only between the two reads, so that no process comes or goes.)
al_run --policy "$pol" -- /bin/sh -c "sleep 5 & while read -r p; do echo \$p; done <$procs
	echo me \$\$; for d in /proc/[0-9]*; do printf '%s ' \${d#/proc/}; done"
listed=$(echo "$AL_OUT" | grep -Ex '[0-9]+' | sort -n | tr '\n' ' ')
me=$(echo "$AL_OUT" | sed -n 's/^me //p')
visible=" $(echo "$AL_OUT" | tail -n 1) "
stray=
for p in $listed; do
	case "$visible" in *" $p "*) ;; *) stray+="$p " ;; esac
done
al_ok "$([ -n "$listed" ] && [ -z "$stray" ] && echo " $listed" | grep -q " $me " &&
	! echo " $listed" | grep -q ' 0 '; echo $?)" \
	"$layout: cgroup.procs lists the task ($me) and only sandbox pids ($listed)"
[ -z "$stray" ] || echo "stray pids: $stray" | al_diag

# /proc/self/cgroup agrees: the cgroup namespace is rooted at the run's cgroup, and so
# is every cgroup mount in /proc/self/mountinfo.
al_run --policy "$pol" -- /bin/sh -c "grep -vc ':/\$' /proc/self/cgroup; awk '{
	for (i = 7; \$i != \"-\"; i++); if (\$(i + 1) ~ /^cgroup/) print \$4 }' /proc/self/mountinfo |
	sort | uniq -c"
al_ok "$(echo "$AL_OUT" | tr -s ' \n' ' ' | grep -Eqx '0 [1-9][0-9]* / ?'; echo $?)" \
	"$layout: every line of /proc/self/cgroup and the root of every cgroup mount is /"
[ "$AL_RC" -eq 0 ] || al_show

# A runtime sizing itself from its cgroup, the way the JVM and Go find it: the cgroup
# mounts in mountinfo, the task's path in /proc/self/cgroup, then v2 memory.max/cpu.max
# or v1 memory.limit_in_bytes/cpu.cfs_quota_us/cpu.cfs_period_us.
cat >"$AL_WS/sizer.py" <<'PY'
import math, os

def mounts():
    for line in open("/proc/self/mountinfo"):
        left, right = line.split(" - ", 1)
        f, r = left.split(), right.split()
        yield f[3], f[4], r[0], r[2].split(",")

def paths():
    p = {}
    for line in open("/proc/self/cgroup"):
        _, ctrls, path = line.rstrip("\n").split(":", 2)
        for c in ctrls.split(",") if ctrls else [""]:
            p[c] = path
    return p

def locate(ms, want_type, ctrl, path):
    for root, point, fstype, opts in ms:
        if fstype != want_type or (ctrl and ctrl not in opts):
            continue
        if path == root:
            return point
        if root == "/":
            return point + path.rstrip("/")
        if path.startswith(root + "/"):
            return point + path[len(root):]
    return None

def read(d, name):
    try:
        return open(os.path.join(d, name)).read().split()
    except (OSError, TypeError):
        return None

ms, p = list(mounts()), paths()
mem = cpus = pids = None
if locate(ms, "cgroup", "memory", p.get("memory", "")):
    source = "v1"
    m = read(locate(ms, "cgroup", "memory", p.get("memory")), "memory.limit_in_bytes")
    mem = int(m[0]) if m and int(m[0]) < 1 << 62 else None
    d = locate(ms, "cgroup", "cpu", p.get("cpu"))
    q, per = read(d, "cpu.cfs_quota_us"), read(d, "cpu.cfs_period_us")
    cpus = int(q[0]) / int(per[0]) if q and per and int(q[0]) > 0 else None
    v = read(locate(ms, "cgroup", "pids", p.get("pids")), "pids.max")
elif locate(ms, "cgroup2", None, p.get("", "")):
    source = "v2"
    d = locate(ms, "cgroup2", None, p.get(""))
    m, c = read(d, "memory.max"), read(d, "cpu.max")
    mem = int(m[0]) if m and m[0] != "max" else None
    cpus = int(c[0]) / int(c[1]) if c and c[0] != "max" else None
    v = read(d, "pids.max")
else:
    source, v = "none", None
pids = int(v[0]) if v and v[0] != "max" else None
mem = mem or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
procs = max(1, math.ceil(cpus)) if cpus else os.cpu_count()
print(f"source={source} memory={mem} cpus={cpus} procs={procs} pids={pids}")
PY
chmod 644 "$AL_WS/sizer.py"
al_run --policy "$pol" -- python3 /workspace/sizer.py
al_is "$AL_OUT" "source=$layout memory=201326592 cpus=0.5 procs=1 pids=77" \
	"a runtime sizing itself from its cgroup gets the policy's memory, cpu and pids"
[ "$AL_RC" -eq 0 ] || al_show

# filesystem.cgroup=false: no /sys at all, and the runtime falls back to the host's size.
al_check "filesystem.cgroup=false: /sys is absent" --policy "$pol_off" -- "$PROBE" absent /sys
al_run --policy "$pol_off" -- python3 /workspace/sizer.py
al_ok "$(echo "$AL_OUT" | grep -q '^source=none memory=[0-9]* cpus=None procs=[0-9]* pids=None$'
	echo $?)" "filesystem.cgroup=false: the runtime finds no cgroup ($AL_OUT)"

# Nothing of the runs is left: no run cgroup, no mount on the host.
left=
for f in "$AL_STATE"/records/*.json; do
	id=$(basename "$f" .json)
	left+=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$id" 2>/dev/null)
done
al_is "$left" "" "no run cgroup is left on the host"
al_is "$(al_our_mounts)" "" "no mount of the runs is left on the host"
